// One alarm fire, started by the trigger's Temporal Schedule (`alarm/<ns>/<trigger>`): fires the
// trigger through whichever controller takes the activity. While no controller runs, the activity
// waits in its queue (up to ten minutes), so a controller restart loses no fire.
import { proxyActivities } from '@temporalio/workflow';
import type { createAlarmActivities } from '../activities/alarms';
import type { AlarmFire } from './alarm-messages';

export async function alarmFireWorkflow(alarm: AlarmFire): Promise<string> {
  const { fireAlarmTrigger } = proxyActivities<ReturnType<typeof createAlarmActivities>>({
    taskQueue: alarm.firingQueue,
    scheduleToCloseTimeout: '10 minutes',
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: '1 second',
      maximumInterval: '30 seconds',
      nonRetryableErrorTypes: ['TriggerMissing'],
    },
  });
  return fireAlarmTrigger(alarm);
}
