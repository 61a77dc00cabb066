// The Mesos framework (`mesos-framework`): one long-running workflow holds the framework id and the
// tasks Gust wants. A heartbeating activity holds the scheduler subscription and signals every
// event here; this workflow answers offers (ACCEPT with LAUNCH, or DECLINE with a refuse filter),
// KILLs what Gust gives up, RECONCILEs after every (re-)subscription, and tells an owner pool when
// one of its tasks died. The backend (backends/mesos/backend.ts) asks for tasks through updates.
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { MesosActivities } from '../activities/mesos';
import type { Offer } from '../backends/mesos/protocol';
import { assertValidTaskId, buildTaskInfo, planOffers } from '../backends/mesos/spec';
import { LABELS } from '../common/names';
import { shouldContinueAsNew } from './history';
import { MesosFramework } from './mesos-framework-state';
import {
  TASK_NOT_RUNNING,
  TASK_STILL_PENDING,
  killTaskUpdate,
  launchTaskUpdate,
  mesosDisconnectedSignal,
  mesosErrorSignal,
  mesosOffersSignal,
  mesosRescindSignal,
  mesosSubscribedSignal,
  mesosTasksQuery,
  mesosUpdateSignal,
  type MesosFrameworkInput,
  type MesosTaskRecord,
} from './mesos-messages';
import { repairSignal } from './messages';
import { scopedNames } from './scope';

/** The subscription lives as long as this run; it heartbeats every second. */
const subscription = (queue: string) =>
  proxyActivities<MesosActivities>({
    taskQueue: queue,
    startToCloseTimeout: '365d',
    // A crashed provisioner's subscription moves on after this. Not shorter: a live subscription
    // timed out on a busy machine keeps running until it hears so, and meanwhile its retry
    // subscribes too. The provisioner worker sends heartbeats every second or two regardless
    // (maxHeartbeatThrottleInterval), so a cancellation reaches the activity that soon.
    heartbeatTimeout: '15s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    summary: 'hold the Mesos scheduler subscription',
  });

/** Calls are single HTTP requests on this worker. An ACCEPT is never retried: an offer is used once. */
const calls = proxyLocalActivities<MesosActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumAttempts: 3 },
});
const acceptCall = proxyLocalActivities<MesosActivities>({
  startToCloseTimeout: '20s',
  retry: { maximumAttempts: 1 },
});

/** Declines: briefly while tasks wait for a better offer, long when nothing waits (REVIVE undoes it). */
const REFUSE_WHILE_WAITING_S = 2;
const REFUSE_WHEN_IDLE_S = 30;
/** A launch update waits this long for TASK_RUNNING, then the caller asks again. */
const LAUNCH_WAIT = '45s';
const KILL_WAIT = '30s';

export async function mesosFrameworkWorkflow(input: MesosFrameworkInput): Promise<void> {
  const names = scopedNames(input.scope);
  const historyFull = (): boolean =>
    shouldContinueAsNew() ||
    (input.historyLimit !== undefined && workflowInfo().historyLength > input.historyLimit);
  const fw = new MesosFramework(input.state);
  /** The live subscription's stream id: calls are possible only while it is set. */
  let streamId: string | null = null;
  let offers: Offer[] = [];
  let reconcile = false;
  let revive = false;
  let dirty = true;
  const toReconcile: { taskId: string; agentId: string | null }[] = [];
  const toKill: { taskId: string; agentId: string | null }[] = [];
  const deaths: MesosTaskRecord[] = [];
  let killTimer = false;
  /** Past the loop, on the way to continue-as-new: nothing would answer a new request here. */
  let closing = false;
  // Rejected in the validator (no history): the caller asks again and meets the next run.
  const refuseWhileClosing = (): void => {
    if (closing)
      throw ApplicationFailure.create({
        type: TASK_STILL_PENDING,
        message: 'the framework is continuing as new',
      });
  };

  setHandler(
    launchTaskUpdate,
    async (spec) => {
      if (fw.launch(spec, Date.now())) revive = true;
      dirty = true;
      const settled = (): boolean => ['running', 'gone'].includes(fw.find(spec.taskId)?.phase ?? 'gone');
      if (!(await condition(settled, LAUNCH_WAIT)))
        throw ApplicationFailure.create({
          type: TASK_STILL_PENDING,
          message: `task ${spec.taskId} is not running yet`,
        });
      const t = fw.find(spec.taskId)!;
      if (t.phase === 'running' && !t.kill) return t;
      throw ApplicationFailure.create({
        type: TASK_NOT_RUNNING,
        nonRetryable: true,
        message: `task ${spec.taskId} did not start: ${t.status?.state ?? 'killed'}${t.status?.reason ? ` (${t.status.reason})` : ''}${t.status?.message ? `: ${t.status.message}` : ''}`,
      });
    },
    {
      validator: (spec) => {
        refuseWhileClosing();
        assertValidTaskId(spec.taskId);
        if (!spec.image || !(spec.memoryMB > 0) || !(spec.cpus > 0))
          throw new Error('a task needs an image, memory and cpus');
      },
      description: 'Launch a task (idempotent by task id); returns once it is TASK_RUNNING.',
    },
  );
  setHandler(
    killTaskUpdate,
    async ({ taskId }) => {
      fw.kill(taskId, Date.now());
      dirty = true;
      await condition(() => (fw.find(taskId)?.phase ?? 'gone') === 'gone', KILL_WAIT);
      return fw.find(taskId) ?? null;
    },
    {
      validator: (_kill: { taskId: string }) => refuseWhileClosing(),
      description: 'Kill a task; returns once Mesos reports it terminal (or after 30 s).',
    },
  );
  setHandler(mesosTasksQuery, () => ({
    frameworkId: fw.state.frameworkId,
    subscribed: streamId !== null,
    tasks: fw.state.tasks,
  }));

  setHandler(mesosSubscribedSignal, (s) => {
    if (fw.state.frameworkId !== s.frameworkId)
      log.info('Mesos framework registered', { frameworkId: s.frameworkId });
    fw.state.frameworkId = s.frameworkId;
    streamId = s.streamId;
    offers = [];
    reconcile = true;
    revive = fw.pending().length > 0;
    dirty = true;
  });
  setHandler(mesosDisconnectedSignal, (s) => {
    if (streamId !== s.streamId) return;
    streamId = null;
    offers = [];
    dirty = true;
  });
  setHandler(mesosOffersSignal, (s) => {
    // Offers of an older subscription died with it.
    if (s.streamId !== streamId) return;
    offers.push(...s.offers);
    dirty = true;
  });
  setHandler(mesosRescindSignal, (s) => {
    offers = offers.filter((o) => o.id.value !== s.offerId);
  });
  setHandler(mesosUpdateSignal, ({ status }) => {
    const outcome = fw.applyStatus(status, Date.now());
    if (outcome.reconcile) toReconcile.push(outcome.reconcile);
    if (outcome.kill) toKill.push(outcome.kill);
    if (outcome.died) deaths.push(outcome.died);
    if (outcome.revive) revive = true;
    dirty = true;
  });
  setHandler(mesosErrorSignal, ({ message, removed, streamId: from }) => {
    // An error on a stream already replaced says nothing about the live one.
    if (!removed && from !== undefined && from !== streamId) return;
    log.error('Mesos master sent an error', { message });
    if (removed) deaths.push(...fw.removedByMaster(Date.now()));
    streamId = null;
    dirty = true;
  });

  // The subscription runs beside the loop for the whole run; a new run starts a new one.
  const subscriptionScope = new CancellationScope();
  const subscribed = subscriptionScope
    .run(() =>
      subscription(names.provisioningQueue).subscribeToMaster({
        workflowId: workflowInfo().workflowId,
        frameworkInfo: {
          user: input.user,
          name: input.frameworkName,
          failover_timeout: input.failoverTimeoutMs / 1000,
          checkpoint: true,
          ...(fw.state.frameworkId ? { id: { value: fw.state.frameworkId } } : {}),
        },
      }),
    )
    .catch((err) => {
      if (!isCancellation(err)) log.error('the Mesos subscription ended', { error: String(err) });
    });

  for (;;) {
    await condition(() => dirty || deaths.length > 0 || (historyFull() && allHandlersFinished()));
    dirty = false;
    await tellOwners(deaths.splice(0));
    publish();
    // Waiting launches and kills need this loop: continue-as-new once none is waiting.
    if (historyFull() && allHandlersFinished()) break;
    if (streamId === null || fw.state.frameworkId === null) continue;
    const ctx = { streamId, frameworkId: fw.state.frameworkId };
    try {
      if (reconcile) {
        reconcile = false;
        await calls.reconcileTasks(
          ctx,
          fw.launched().map(({ spec, agentId }) => ({ taskId: spec.taskId, agentId })),
        );
      }
      if (toReconcile.length > 0) await calls.reconcileTasks(ctx, toReconcile.splice(0));
      const kills = [
        ...toKill.splice(0),
        ...fw.killsDue(Date.now()).map((t) => ({ taskId: t.spec.taskId, agentId: t.agentId })),
      ];
      if (kills.length > 0) {
        try {
          await calls.killTasks(ctx, kills);
        } catch (err) {
          // Not sent (a stale stream, most likely): they go again on the next good stream,
          // not a resend period later.
          if (patched('mesos-resend-failed-kills')) fw.killNotSent(kills.map((k) => k.taskId));
          throw err;
        }
      }
      if (revive) {
        revive = false;
        await calls.reviveOffers(ctx);
      }
      await answerOffers(ctx);
    } catch (err) {
      // The stream may have gone stale meanwhile; a new SUBSCRIBED reconciles everything.
      log.warn('a Mesos call failed', { error: String(err) });
    }
    // A KILL sent long ago without an answer is due again: look again in a while.
    if (!killTimer && fw.launched().some((t) => t.kill)) {
      killTimer = true;
      void sleep('10s').then(() => {
        killTimer = false;
        dirty = true;
      });
    }
  }
  closing = true;
  // The stream goes with the subscription: from here the view no longer claims it (the master
  // sees it close before this run hands over to the next).
  streamId = null;
  subscriptionScope.cancel();
  await subscribed;
  await condition(allHandlersFinished);
  fw.prune(Date.now());
  await continueAsNew<typeof mesosFrameworkWorkflow>({ ...input, state: fw.state });

  async function answerOffers(ctx: { streamId: string; frameworkId: string }): Promise<void> {
    if (offers.length === 0) return;
    const held = offers;
    offers = [];
    const { plans, unused } = planOffers(
      fw.pending().map((t) => t.spec),
      held,
    );
    for (const plan of plans) {
      const launching = fw.markLaunching(plan, Date.now());
      try {
        await acceptCall.acceptOffers(ctx, {
          offerIds: [plan.offer.id.value],
          tasks: launching.map((t) => buildTaskInfo(t.spec, plan.offer.agent_id.value, t.hostPort!)),
          refuseSeconds: REFUSE_WHILE_WAITING_S,
        });
      } catch (err) {
        // Did the master get it? Only it can say: reconcile these tasks (rule 3).
        log.warn('ACCEPT failed; reconciling its tasks', { error: String(err) });
        toReconcile.push(...launching.map((t) => ({ taskId: t.spec.taskId, agentId: t.agentId })));
        dirty = true;
      }
    }
    if (unused.length > 0) {
      await calls.declineOffers(ctx, {
        offerIds: unused.map((o) => o.id.value),
        refuseSeconds: fw.pending().length > 0 ? REFUSE_WHILE_WAITING_S : REFUSE_WHEN_IDLE_S,
      });
    }
  }

  /** Each dead task's owner pool (its `owner` label) replaces it. */
  async function tellOwners(dead: MesosTaskRecord[]): Promise<void> {
    for (const t of dead) {
      const owner = t.spec.labels[LABELS.owner];
      if (!owner) continue;
      try {
        await getExternalWorkflowHandle(owner).signal(repairSignal, { names: [t.spec.taskId] });
      } catch (err) {
        log.warn('could not tell the owner of a dead task', {
          owner,
          task: t.spec.taskId,
          error: String(err),
        });
      }
    }
  }

  function publish(): void {
    setCurrentDetails(fw.summary(streamId !== null));
  }
}
