// Input of the alarm fire workflow, shared by the workflow, its activity and the feed that
// schedules it. No Node APIs (workflow code imports this module).

export interface AlarmFire {
  namespace: string;
  trigger: string;
  /** Whose fire it is (the identity that created the feed). */
  subject: string;
  /** The POST body of each fire (`trigger_payload`). */
  payload: Record<string, unknown>;
  /** The task queue the fire activity runs on (every controller polls it). */
  firingQueue: string;
  /** `once` alarms: after the fire, delete the trigger (`true`) and its rules too (`rules`). */
  deleteAfterFire?: 'true' | 'rules';
}
