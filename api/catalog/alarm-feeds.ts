// The native alarms feed (/whisk.system/alarms/{alarm,interval,once}), OpenWhisk's
// openwhisk-package-alarms contract on Temporal Schedules: one schedule per feed trigger
// (`alarm/<ns>/<trigger>`, visible in the Temporal UI) starts `alarmFireWorkflow`, which fires the
// trigger through any controller. Lifecycle events CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE
// come from the client (OpenWhisk's docs/feeds.md). Unlike OpenWhisk's provider, no fire is lost
// while the controllers restart: the fire waits in Temporal.
import type { Client, ScheduleOptions } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ALARMS_TASK_QUEUE, alarmScheduleId } from '../../common/names';
import type { AlarmFire } from '../../workflows/alarm-messages';
import { type Scope, scopedNames } from '../../workflows/scope';
import { parseQualifiedName } from '../action-resolution';
import type { Identity } from '../authenticator';
import type { EntityCache } from '../entity-cache';
import { keyValueOf } from '../key-values';
import type { ActivationResponse } from '../invoke/classify';
import { response } from '../invoke/classify';
import type { Trigger } from '../trigger-model';

export type AlarmFeedKind = 'alarm' | 'interval' | 'once';

/** What a feed was created with (kept in the schedule's memo for READ and UPDATE). */
interface AlarmConfig {
  feed: AlarmFeedKind;
  namespace: string;
  name: string;
  payload: Record<string, unknown>;
  cron?: string;
  timezone?: string;
  minutes?: number;
  date?: string;
  startDate?: string;
  stopDate?: string;
  deleteAfterFire?: string;
}

class FeedError extends Error {}

const success = (result: unknown): ActivationResponse => response('success', result);
const failed = (error: string): ActivationResponse => response('application error', { error });

function dateOf(value: unknown, name: string): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const date = new Date(
    typeof value === 'number' || /^\d+$/.test(String(value)) ? Number(value) : String(value),
  );
  if (Number.isNaN(date.getTime()))
    throw new FeedError(`${name} parameter '${String(value)}' is not a valid date`);
  return date;
}

/** OpenWhisk's 6-field cron has seconds first; Temporal's 7-field form adds the year last. */
function temporalCron(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length === 5) return fields.join(' ');
  if (fields.length === 6) return [...fields, '*'].join(' ');
  throw new FeedError(`cron pattern '${cron}' is not valid`);
}

/** A trigger made through the native alarms feed: its schedule must go when it goes. */
export function isAlarmTrigger(trigger: Pick<Trigger, 'annotations'>): boolean {
  return String(keyValueOf(trigger.annotations, 'feed') ?? '').includes('whisk.system/alarms/');
}

/** Deletes the schedule of a trigger's alarm, if it has one; idempotent. */
export async function deleteAlarmSchedule(
  client: Client,
  scope: Scope,
  namespace: string,
  trigger: string,
): Promise<void> {
  try {
    await client.schedule.getHandle(scope.prefix + alarmScheduleId(namespace, trigger)).delete();
  } catch (error) {
    if ((error as { name?: string }).name !== 'ScheduleNotFoundError') throw error;
  }
}

export class AlarmFeeds {
  readonly #client: Client;
  readonly #scope: Scope;
  readonly #entities: EntityCache;

  constructor(options: { client: Client; scope: Scope; entities: EntityCache }) {
    this.#client = options.client;
    this.#scope = options.scope;
    this.#entities = options.entities;
  }

  scheduleId(namespace: string, trigger: string): string {
    return this.#scope.prefix + alarmScheduleId(namespace, trigger);
  }

  /** The feed action itself: never rejects, answers as OpenWhisk's alarms feed does. */
  async handle(
    feed: AlarmFeedKind,
    params: Record<string, unknown>,
    caller: Identity,
  ): Promise<ActivationResponse> {
    try {
      const target = parseQualifiedName(String(params.triggerName ?? ''), caller.namespace);
      if (!target || target.pkg !== undefined)
        throw new FeedError('triggerName parameter is not a valid trigger name');
      // The trigger must be the caller's; it must still exist except for DELETE (which follows it).
      const exists = await this.#entities.get<Trigger>('triggers', target.namespace, target.name);
      if (target.namespace !== caller.namespace || (!exists && params.lifecycleEvent !== 'DELETE'))
        throw new FeedError(`trigger /${target.namespace}/${target.name} does not exist`);
      const id = this.scheduleId(target.namespace, target.name);
      const handle = this.#client.schedule.getHandle(id);
      switch (params.lifecycleEvent) {
        case 'CREATE':
          await this.#create(this.#config(feed, params, target.namespace, target.name), caller);
          return success({ status: 'success' });
        case 'READ':
          return success(await this.#read(id));
        case 'UPDATE': {
          const previous = await this.#stored(id);
          const merged = { ...previous, ...params };
          await handle.delete();
          await this.#create(this.#config(previous.feed, merged, target.namespace, target.name), caller);
          return success({ status: 'success' });
        }
        case 'DELETE':
          await this.deleteSchedule(target.namespace, target.name);
          return success({ status: 'success' });
        case 'PAUSE':
          await handle.pause('paused through the feed');
          return success({ status: 'success' });
        case 'UNPAUSE':
          await handle.unpause('unpaused through the feed');
          return success({ status: 'success' });
        default:
          throw new FeedError(`unsupported lifecycleEvent '${String(params.lifecycleEvent)}'`);
      }
    } catch (error) {
      if (error instanceof FeedError) return failed(error.message);
      if ((error as { name?: string }).name === 'ScheduleNotFoundError')
        return failed('alarm does not exist');
      if ((error as { name?: string }).name === 'ScheduleAlreadyRunning')
        return failed('alarm already exists');
      return failed(error instanceof Error ? error.message : String(error));
    }
  }

  /** Removes the trigger's schedule if it has one (trigger deleted); idempotent. */
  async deleteSchedule(namespace: string, trigger: string): Promise<void> {
    await deleteAlarmSchedule(this.#client, this.#scope, namespace, trigger);
  }

  #config(
    feed: AlarmFeedKind,
    params: Record<string, unknown>,
    namespace: string,
    name: string,
  ): AlarmConfig {
    const raw = params.trigger_payload ?? params.payload;
    const payload =
      raw === undefined
        ? {}
        : typeof raw === 'string'
          ? { payload: raw }
          : typeof raw === 'object' && raw !== null
            ? (raw as Record<string, unknown>)
            : { payload: raw };
    const config: AlarmConfig = { feed, namespace, name, payload };
    const start = dateOf(params.startDate, 'startDate');
    const stop = dateOf(params.stopDate, 'stopDate');
    if (start) config.startDate = start.toISOString();
    if (stop) config.stopDate = stop.toISOString();
    if (feed === 'alarm') {
      if (params.cron === undefined || params.cron === '')
        throw new FeedError('alarms trigger feed is missing the cron parameter');
      config.cron = String(params.cron);
      temporalCron(config.cron);
      if (params.timezone !== undefined) config.timezone = String(params.timezone);
    } else if (feed === 'interval') {
      const minutes = Number(params.minutes);
      if (!Number.isInteger(minutes) || minutes <= 0)
        throw new FeedError('the minutes parameter must be an integer greater than zero');
      config.minutes = minutes;
    } else {
      const date = dateOf(params.date, 'date');
      if (!date) throw new FeedError('alarms once trigger feed is missing the date parameter');
      if (date.getTime() <= Date.now()) throw new FeedError('the date parameter must be in the future');
      config.date = date.toISOString();
      const deleteAfterFire = String(params.deleteAfterFire ?? 'false');
      if (!['false', 'true', 'rules'].includes(deleteAfterFire))
        throw new FeedError('deleteAfterFire parameter must be one of [false, true, rules].');
      config.deleteAfterFire = deleteAfterFire;
    }
    if (start && stop && stop <= start)
      throw new FeedError('the first scheduled trigger fire is not until after the stop date');
    return config;
  }

  async #create(config: AlarmConfig, caller: Identity): Promise<void> {
    const names = scopedNames(this.#scope);
    const spec: ScheduleOptions['spec'] = {};
    if (config.cron !== undefined) spec.cronExpressions = [temporalCron(config.cron)];
    if (config.timezone !== undefined) spec.timezone = config.timezone;
    if (config.minutes !== undefined) spec.intervals = [{ every: config.minutes * 60_000 }];
    if (config.date !== undefined) {
      const at = new Date(config.date);
      spec.calendars = [
        {
          year: at.getUTCFullYear(),
          month: (
            [
              'JANUARY',
              'FEBRUARY',
              'MARCH',
              'APRIL',
              'MAY',
              'JUNE',
              'JULY',
              'AUGUST',
              'SEPTEMBER',
              'OCTOBER',
              'NOVEMBER',
              'DECEMBER',
            ] as const
          )[at.getUTCMonth()],
          dayOfMonth: at.getUTCDate(),
          hour: at.getUTCHours(),
          minute: at.getUTCMinutes(),
          second: at.getUTCSeconds(),
        },
      ];
    }
    // OpenWhisk's interval alarms start 30 s after creation unless told otherwise.
    const startAt =
      config.startDate ??
      (config.minutes !== undefined ? new Date(Date.now() + 30_000).toISOString() : undefined);
    if (startAt !== undefined) spec.startAt = new Date(startAt);
    if (config.stopDate !== undefined) spec.endAt = new Date(config.stopDate);
    const fire: AlarmFire = {
      namespace: config.namespace,
      trigger: config.name,
      subject: caller.subject,
      payload: config.payload,
      firingQueue: this.#scope.prefix + ALARMS_TASK_QUEUE,
    };
    if (config.deleteAfterFire !== undefined && config.deleteAfterFire !== 'false')
      fire.deleteAfterFire = config.deleteAfterFire as 'true' | 'rules';
    try {
      await this.#client.schedule.create({
        scheduleId: this.scheduleId(config.namespace, config.name),
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: 'alarmFireWorkflow',
          args: [fire],
          taskQueue: names.provisioningQueue,
          workflowId: `${this.#scope.prefix}alarm-fire/${config.namespace}/${config.name}`,
          staticSummary: `Fire trigger /${config.namespace}/${config.name} (${config.feed})`,
          // A fire is news for as long as the catch-up window below, and the firing activity gives
          // up after ten minutes: a run that no provisioner started by then ends instead of waiting
          // on the server for good (a schedule whose workers are gone starts one every period).
          workflowExecutionTimeout: '20 minutes',
        },
        // Every fire is its own run (none is dropped while an earlier one waits for a controller);
        // fires missed while the schedule could not start runs are caught up within ten minutes.
        policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: 600_000 },
        state: config.date !== undefined ? { remainingActions: 1, note: 'once' } : { note: config.feed },
        memo: { config },
      });
    } catch (error) {
      if (config.cron !== undefined && /cron|invalid|parse/i.test(String((error as Error).message)))
        throw new FeedError(`cron pattern '${config.cron}' is not valid`);
      throw error;
    }
  }

  /** The configuration the schedule was created with (its memo), `feed` included. */
  async #stored(id: string): Promise<AlarmConfig> {
    const description = await this.#client.schedule.getHandle(id).describe();
    return (description.memo?.config ?? {}) as AlarmConfig;
  }

  async #read(id: string): Promise<Record<string, unknown>> {
    const description = await this.#client.schedule.getHandle(id).describe();
    const config = (description.memo?.config ?? {}) as AlarmConfig;
    const { feed: _feed, ...shown } = config;
    return {
      config: shown,
      status: {
        active: !description.state.paused,
        note: description.state.note,
        nextFires: description.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        fires: description.info.numActionsTaken,
      },
    };
  }
}
