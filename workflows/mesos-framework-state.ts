// The Mesos framework's task inventory and the decisions on it, as plain data and pure methods
// (the workflow in mesos-framework.ts only holds it, feeds it events and runs the calls it asks for).
//
// Rules the framework keeps:
//   1. A task id is the Gust container name: launching the same spec twice is one task.
//   2. An offer is used at most once (ACCEPT or DECLINE); offers die with their subscription.
//   3. A launch whose outcome is unknown (ACCEPT failed, offer invalid, duplicate id) is settled by
//      explicit reconciliation, never by launching again blindly.
//   4. A task Gust did not ask for (reconcile found it) is killed; one that died without being
//      asked to is reported to its owner pool, which replaces it.
import { isTerminal, type TaskStatus } from '../backends/mesos/protocol';
import type { MesosTaskSpec, OfferPlan } from '../backends/mesos/spec';
import { agentUrlOf } from '../backends/mesos/spec';
import type { MesosFrameworkState, MesosTaskRecord } from './mesos-messages';

/** A launch that failed this many times in a row (never reaching the master) is given up. */
const MAX_LAUNCHES = 3;
/** A KILL without a terminal status after this long is sent again. */
const KILL_RESEND_MS = 10_000;
/** Gone tasks are remembered this long (late waiters and duplicate updates find them). */
const GONE_RETENTION_MS = 10 * 60_000;

/** What applying a status update asks of the workflow. */
export interface StatusOutcome {
  /** Ask the master for this task's state (explicit reconciliation). */
  reconcile?: { taskId: string; agentId: string | null };
  /** Kill this task: nobody wants it. */
  kill?: { taskId: string; agentId: string | null };
  /** A running task died unasked: tell its owner. */
  died?: MesosTaskRecord;
  /** A task became pending again: offers are needed. */
  revive?: boolean;
}

export class MesosFramework {
  readonly state: MesosFrameworkState;

  constructor(state: MesosFrameworkState | undefined) {
    this.state = state ?? { frameworkId: null, tasks: [] };
  }

  find(taskId: string): MesosTaskRecord | undefined {
    return this.state.tasks.find((t) => t.spec.taskId === taskId);
  }

  /** Records a wanted task. True when it is (again) pending, i.e. offers are needed. */
  launch(spec: MesosTaskSpec, now: number): boolean {
    const known = this.find(spec.taskId);
    if (known && known.phase !== 'gone') {
      known.kill = false;
      return false;
    }
    if (known) this.state.tasks.splice(this.state.tasks.indexOf(known), 1);
    this.state.tasks.push({
      spec,
      phase: 'pending',
      agentId: null,
      hostname: null,
      agentUrl: null,
      hostPort: null,
      launches: 0,
      kill: false,
      killSentAt: null,
      status: null,
      since: now,
      runningAt: null,
      goneAt: null,
    });
    return true;
  }

  /** Gust no longer wants the task. A pending one is dropped at once. */
  kill(taskId: string, now: number): void {
    const t = this.find(taskId);
    if (!t || t.phase === 'gone') return;
    if (t.phase === 'pending') this.#gone(t, now);
    else t.kill = true;
  }

  pending(): MesosTaskRecord[] {
    return this.state.tasks.filter((t) => t.phase === 'pending' && !t.kill);
  }

  /** Tasks the master should know: reconcile asks for them after every (re-)subscription. */
  launched(): MesosTaskRecord[] {
    return this.state.tasks.filter((t) => t.phase === 'launching' || t.phase === 'running');
  }

  markLaunching(plan: OfferPlan, now: number): MesosTaskRecord[] {
    const { offer } = plan;
    return plan.launches.map(({ taskId, hostPort }) => {
      const t = this.find(taskId)!;
      t.phase = 'launching';
      t.agentId = offer.agent_id.value;
      t.hostname = offer.hostname;
      t.agentUrl = agentUrlOf(offer);
      t.hostPort = hostPort;
      t.launches++;
      t.since = now;
      return t;
    });
  }

  /** KILLs due now (never sent, or sent long ago without an answer); marks them sent. */
  killsDue(now: number): MesosTaskRecord[] {
    const due = this.launched().filter(
      (t) => t.kill && (t.killSentAt === null || now - t.killSentAt > KILL_RESEND_MS),
    );
    for (const t of due) t.killSentAt = now;
    return due;
  }

  /** KILLs that did not reach the master: due again at once. */
  killNotSent(taskIds: string[]): void {
    for (const id of taskIds) {
      const t = this.find(id);
      if (t) t.killSentAt = null;
    }
  }

  applyStatus(status: TaskStatus, now: number): StatusOutcome {
    const taskId = status.task_id.value;
    const agentId = status.agent_id?.value ?? null;
    const t = this.find(taskId);
    const terminal = isTerminal(status.state);
    if (!t) return terminal ? {} : { kill: { taskId, agentId } };
    t.status = {
      state: status.state,
      ...(status.reason ? { reason: status.reason } : {}),
      ...(status.message ? { message: status.message } : {}),
    };
    if (!terminal) {
      if (t.phase === 'gone' || t.phase === 'pending') {
        // Reconcile found it alive after we had given it up (or before the launch was settled).
        if (t.phase === 'gone') t.kill = true;
        t.phase = 'launching';
      }
      t.agentId = agentId ?? t.agentId;
      if (status.state === 'TASK_RUNNING' && t.phase !== 'running') {
        t.phase = 'running';
        t.runningAt = now;
      }
      return t.kill && t.killSentAt === null ? { kill: { taskId, agentId: t.agentId } } : {};
    }
    if (t.phase === 'gone' || t.phase === 'pending') return {};
    // This attempt did not happen (used offer) or hit the live task (duplicate id): ask the master.
    const invalidOffer = status.reason === 'REASON_INVALID_OFFERS';
    const duplicate = status.reason === 'REASON_TASK_INVALID' && /duplicate/i.test(status.message ?? '');
    if (invalidOffer || duplicate) return { reconcile: { taskId, agentId: t.agentId } };
    // The master never heard of it: the launch was lost on the way.
    const unknown =
      status.reason === 'REASON_RECONCILIATION' &&
      ['TASK_LOST', 'TASK_UNKNOWN', 'TASK_DROPPED'].includes(status.state);
    if (unknown && t.phase === 'launching' && !t.kill && t.launches < MAX_LAUNCHES) {
      t.phase = 'pending';
      return { revive: true };
    }
    const wasRunning = t.phase === 'running';
    this.#gone(t, now);
    return wasRunning && !t.kill ? { died: t } : {};
  }

  /** The master forgot the framework (failover timeout passed): it has killed every task. */
  removedByMaster(now: number): MesosTaskRecord[] {
    this.state.frameworkId = null;
    const running = this.launched().filter((t) => t.phase === 'running' && !t.kill);
    for (const t of this.state.tasks) if (t.phase !== 'gone') this.#gone(t, now);
    return running;
  }

  /** Forgets tasks gone long ago (at continue-as-new). */
  prune(now: number): void {
    this.state.tasks = this.state.tasks.filter(
      (t) => t.goneAt === null || now - t.goneAt < GONE_RETENTION_MS,
    );
  }

  summary(subscribed: boolean): string {
    const count = (phase: string): number => this.state.tasks.filter((t) => t.phase === phase).length;
    const id = this.state.frameworkId ?? 'not yet registered';
    return `framework ${id} (${subscribed ? 'subscribed' : 'not subscribed'}): ${count('running')} running, ${count('launching')} launching, ${count('pending')} waiting for offers`;
  }

  #gone(t: MesosTaskRecord, now: number): void {
    t.phase = 'gone';
    t.goneAt = now;
  }
}
