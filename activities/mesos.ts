// Activities of the Mesos framework (provisioner, task queue `gust-provisioning`).
//   subscribeToMaster: holds the v1 scheduler subscription for as long as it runs — re-subscribing
//     with the framework id after the stream breaks — and feeds every event to the framework
//     workflow as a signal; status updates are acknowledged once their signal is in its history.
//   the calls (accept, decline, revive, kill, reconcile): one HTTP call each, with the stream id
//     the workflow got from the subscription.
import {
  ApplicationFailure,
  activityInfo,
  cancellationSignal,
  getClient,
  heartbeat,
  log,
} from '@temporalio/activity';
import type { MesosSchedulerApi } from '../backends/mesos/api';
import { MesosApiError } from '../backends/mesos/api';
import { TASK_SECRET_ENV, taskSecret } from '../backends/mesos/task-secret';
import type { Event, FrameworkInfo, TaskInfo } from '../backends/mesos/protocol';
import {
  mesosDisconnectedSignal,
  mesosErrorSignal,
  mesosOffersSignal,
  mesosRescindSignal,
  mesosSubscribedSignal,
  mesosTasksQuery,
  mesosUpdateSignal,
} from '../workflows/mesos-messages';

export interface SubscribeInput {
  workflowId: string;
  frameworkInfo: FrameworkInfo;
}

/** Every call names the subscription it belongs to. */
export interface CallContext {
  streamId: string;
  frameworkId: string;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** A call the master refused (4xx) will be refused again: not retried, and the workflow can tell. */
async function call(
  api: MesosSchedulerApi,
  streamId: string,
  body: Parameters<MesosSchedulerApi['call']>[1],
): Promise<void> {
  try {
    await api.call(streamId, body);
  } catch (err) {
    if (err instanceof MesosApiError && err.statusCode >= 400 && err.statusCode < 500)
      throw ApplicationFailure.nonRetryable(err.message, MESOS_CALL_REFUSED);
    throw err;
  }
}

export const MESOS_CALL_REFUSED = 'MesosCallRefused';

/** How long a subscription another one took over waits before it subscribes again. */
const SUPERSEDED_WAIT_MS = 5000;

/** `api` is the process's client of the master; the caller closes it when the worker stops. */
/** `secretKey`: the key of the tasks' runtime secrets (config.mesos.secretKey). */
export function createMesosActivities(
  api: MesosSchedulerApi,
  options: { missedHeartbeats?: number; secretKey?: string } = {},
) {
  const secretKey = options.secretKey ?? '';
  // Heartbeats missed before the stream counts as dead (Mesos's docs/scheduler-http-api.md
  // suggests 5).
  const missedHeartbeats = options.missedHeartbeats ?? 5;

  /** Feeds one subscription's events to the workflow until the stream ends or breaks. */
  async function follow(
    input: SubscribeInput,
    frameworkId: string | undefined,
    cancelled: AbortSignal,
    onSubscribed: (frameworkId: string) => void,
    onStream: (streamId: string) => void,
    onSuperseded: () => void,
  ): Promise<void> {
    const handle = getClient().workflow.getHandle(input.workflowId);
    const stream = new AbortController();
    const stop = (): void => stream.abort();
    cancelled.addEventListener('abort', stop, { once: true });
    let watchdog: NodeJS.Timeout | undefined;
    let intervalMs = 15_000;
    const armWatchdog = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        log.warn('no heartbeat from the Mesos master: dropping the subscription', { intervalMs });
        stream.abort();
      }, intervalMs * missedHeartbeats);
    };
    let subscribedAs = frameworkId ?? '';
    try {
      const info: FrameworkInfo = {
        ...input.frameworkInfo,
        ...(frameworkId ? { id: { value: frameworkId } } : {}),
      };
      const subscription = await api.subscribe(info, stream.signal);
      onStream(subscription.streamId);
      armWatchdog();
      for await (const event of subscription.events) {
        armWatchdog();
        await dispatch(event, subscription.streamId);
      }
      log.warn('the Mesos master closed the subscription');
    } finally {
      clearTimeout(watchdog);
      cancelled.removeEventListener('abort', stop);
      stream.abort();
    }

    async function dispatch(event: Event, id: string): Promise<void> {
      switch (event.type) {
        case 'SUBSCRIBED':
          intervalMs = (event.subscribed.heartbeat_interval_seconds ?? 15) * 1000;
          subscribedAs = event.subscribed.framework_id.value;
          onSubscribed(subscribedAs);
          await handle.signal(mesosSubscribedSignal, {
            frameworkId: event.subscribed.framework_id.value,
            streamId: id,
          });
          return;
        case 'OFFERS':
          await handle.signal(mesosOffersSignal, { streamId: id, offers: event.offers.offers });
          return;
        case 'RESCIND':
          await handle.signal(mesosRescindSignal, { streamId: id, offerId: event.rescind.offer_id.value });
          return;
        case 'UPDATE': {
          const { status } = event.update;
          await handle.signal(mesosUpdateSignal, { streamId: id, status });
          // Acknowledge only what is now durable in the workflow's history (and only what asks for it).
          if (status.uuid && status.agent_id) {
            await api.call(id, {
              type: 'ACKNOWLEDGE',
              framework_id: { value: subscribedAs },
              acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
            });
          }
          return;
        }
        case 'ERROR': {
          const message = event.error?.message ?? 'unknown error';
          if (/failed over/i.test(message)) {
            // Another subscription of this framework took over: most likely a retry of this
            // activity while this attempt, timed out, had not heard so yet.
            onSuperseded();
            stream.abort();
            return;
          }
          const removed = /removed|not registered|unknown framework/i.test(message);
          await handle.signal(mesosErrorSignal, { message, removed, streamId: id });
          if (removed) onSubscribed('');
          stream.abort();
          return;
        }
        case 'FAILURE':
          log.warn('Mesos reports a failure', {
            agent: event.failure.agent_id?.value,
            status: event.failure.status,
          });
          return;
        case 'HEARTBEAT':
          return;
      }
    }
  }

  /** The task's runtime secret goes in here, in this process, never through the workflow. */
  function withSecret(task: TaskInfo): TaskInfo {
    const variables = task.command?.environment?.variables ?? [];
    const secret = { name: TASK_SECRET_ENV, value: taskSecret(secretKey, task.task_id.value) };
    return { ...task, command: { ...task.command, environment: { variables: [...variables, secret] } } };
  }

  return {
    /**
     * Runs until cancelled. Heartbeats carry the framework id, so a retry on another provisioner
     * (after this one crashed) re-subscribes as the same framework even before the workflow knew it.
     */
    async subscribeToMaster(input: SubscribeInput): Promise<void> {
      // The workflow's history is the authority on the framework id (a retry after a crash may
      // not have a heartbeat carrying it: heartbeats are throttled); then heartbeats, then input.
      const details = activityInfo().heartbeatDetails as { frameworkId?: string } | undefined;
      const recorded = await getClient()
        .workflow.getHandle(input.workflowId)
        .query(mesosTasksQuery)
        .then((view) => view.frameworkId ?? undefined)
        .catch(() => undefined);
      let frameworkId = recorded ?? details?.frameworkId ?? input.frameworkInfo.id?.value;
      const cancelled = cancellationSignal();
      const beat = setInterval(() => heartbeat({ frameworkId }), 1000);
      heartbeat({ frameworkId });
      let backoffMs = 100;
      try {
        while (!cancelled.aborted) {
          let streamId: string | undefined;
          let superseded = false;
          try {
            await follow(
              input,
              frameworkId,
              cancelled,
              (id) => {
                frameworkId = id === '' ? undefined : id;
                backoffMs = 100;
                heartbeat({ frameworkId });
              },
              (id) => (streamId = id),
              () => (superseded = true),
            );
          } catch (err) {
            if (cancelled.aborted) break;
            log.warn('Mesos subscription failed; re-subscribing', {
              error: (err as Error).message,
              backoffMs,
            });
          }
          if (streamId !== undefined) {
            await getClient()
              .workflow.getHandle(input.workflowId)
              .signal(mesosDisconnectedSignal, { streamId })
              .catch(() => undefined);
          }
          // Exponential backoff up to 5 s (the API doc suggests at most 15 s). Taken over by
          // another subscription: wait long enough for a stale attempt to hear it is cancelled
          // (heartbeats go every second or two), so that two attempts do not take turns.
          await sleep(superseded ? SUPERSEDED_WAIT_MS : backoffMs, cancelled);
          backoffMs = Math.min(backoffMs * 2, 5000);
        }
      } finally {
        clearInterval(beat);
      }
      cancelled.throwIfAborted();
    },

    async acceptOffers(
      ctx: CallContext,
      input: { offerIds: string[]; tasks: TaskInfo[]; refuseSeconds: number },
    ): Promise<void> {
      await call(api, ctx.streamId, {
        type: 'ACCEPT',
        framework_id: { value: ctx.frameworkId },
        accept: {
          offer_ids: input.offerIds.map((value) => ({ value })),
          operations: [{ type: 'LAUNCH', launch: { task_infos: input.tasks.map(withSecret) } }],
          filters: { refuse_seconds: input.refuseSeconds },
        },
      });
    },

    async declineOffers(
      ctx: CallContext,
      input: { offerIds: string[]; refuseSeconds: number },
    ): Promise<void> {
      await call(api, ctx.streamId, {
        type: 'DECLINE',
        framework_id: { value: ctx.frameworkId },
        decline: {
          offer_ids: input.offerIds.map((value) => ({ value })),
          filters: { refuse_seconds: input.refuseSeconds },
        },
      });
    },

    async reviveOffers(ctx: CallContext): Promise<void> {
      await call(api, ctx.streamId, { type: 'REVIVE', framework_id: { value: ctx.frameworkId } });
    },

    async killTasks(ctx: CallContext, tasks: { taskId: string; agentId: string | null }[]): Promise<void> {
      for (const { taskId, agentId } of tasks) {
        await call(api, ctx.streamId, {
          type: 'KILL',
          framework_id: { value: ctx.frameworkId },
          kill: { task_id: { value: taskId }, ...(agentId ? { agent_id: { value: agentId } } : {}) },
        });
      }
    },

    /** Explicit reconciliation of `tasks`, then implicit (every task the master knows). */
    async reconcileTasks(
      ctx: CallContext,
      tasks: { taskId: string; agentId: string | null }[],
    ): Promise<void> {
      const reconcile = (list: typeof tasks) =>
        call(api, ctx.streamId, {
          type: 'RECONCILE',
          framework_id: { value: ctx.frameworkId },
          reconcile: {
            tasks: list.map(({ taskId, agentId }) => ({
              task_id: { value: taskId },
              ...(agentId ? { agent_id: { value: agentId } } : {}),
            })),
          },
        });
      if (tasks.length > 0) await reconcile(tasks);
      await reconcile([]);
    },
  };
}

export type MesosActivities = ReturnType<typeof createMesosActivities>;
