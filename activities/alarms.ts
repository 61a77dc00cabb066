// The alarm fire activity, run by every controller on the shared alarms queue: fires the trigger
// as its owner through the controller's ordinary fire path (rules, throttles, records).
import { ApplicationFailure } from '@temporalio/common';
import type { AlarmFire } from '../workflows/alarm-messages';

export interface AlarmActivitiesOptions {
  /**
   * Fires the trigger; resolves `missing` when the trigger (or its namespace) is gone, which stops
   * retries (OpenWhisk's provider disables the alarm on such 4xx answers).
   */
  fire(alarm: AlarmFire): Promise<'fired' | 'no-active-rule' | 'missing'>;
}

export function createAlarmActivities({ fire }: AlarmActivitiesOptions) {
  return {
    async fireAlarmTrigger(alarm: AlarmFire): Promise<string> {
      const outcome = await fire(alarm);
      if (outcome === 'missing') {
        throw ApplicationFailure.nonRetryable(
          `trigger /${alarm.namespace}/${alarm.trigger} does not exist`,
          'TriggerMissing',
        );
      }
      return outcome;
    },
  };
}
