// Messages of the Mesos framework workflow (workflows/mesos-framework.ts), with their input types.
// Imported by the workflow, the subscription activity and the backend. No Node APIs.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Offer, TaskState, TaskStatus } from '../backends/mesos/protocol';
import type { MesosTaskSpec } from '../backends/mesos/spec';
import type { Scope } from './scope';

export interface MesosFrameworkInput {
  scope: Scope;
  /** FrameworkInfo.name (the master's UI and logs show it). */
  frameworkName: string;
  /** FrameworkInfo.user the tasks run as. */
  user: string;
  /** FrameworkInfo.failover_timeout: the master keeps the tasks this long while we are away. */
  failoverTimeoutMs: number;
  /** Continue-as-new past this many history events (tests); @default the shared limit (history.ts) */
  historyLimit?: number;
  /** Carried over by continue-as-new. */
  state?: MesosFrameworkState;
}

/**
 * One task's life in the framework: pending (waiting for an offer) → launching (ACCEPT sent) →
 * running (TASK_RUNNING seen) → gone (a terminal status). `kill` marks a task Gust no longer wants:
 * a pending one is dropped at once, a launched one is KILLed until a terminal status comes.
 */
export type MesosTaskPhase = 'pending' | 'launching' | 'running' | 'gone';

export interface MesosTaskRecord {
  spec: MesosTaskSpec;
  phase: MesosTaskPhase;
  /** Set once launched: where the task runs and the host port its runtime is published on. */
  agentId: string | null;
  hostname: string | null;
  agentUrl: string | null;
  hostPort: number | null;
  /** LAUNCHes sent for it: a task that keeps failing to launch is given up. */
  launches: number;
  kill: boolean;
  /** Workflow time of the last KILL sent, so a lost KILL is sent again. */
  killSentAt: number | null;
  /** The latest status update the master sent for it. */
  status: { state: TaskState; reason?: string; message?: string } | null;
  since: number;
  runningAt: number | null;
  goneAt: number | null;
}

export interface MesosFrameworkState {
  /** Assigned by the master at the first SUBSCRIBED; every later SUBSCRIBE carries it. */
  frameworkId: string | null;
  tasks: MesosTaskRecord[];
}

export interface MesosFrameworkView {
  frameworkId: string | null;
  subscribed: boolean;
  tasks: MesosTaskRecord[];
}

/** The subscription activity: a SUBSCRIBED event (first, or after a re-subscription). */
export interface MesosSubscribed {
  frameworkId: string;
  streamId: string;
}

export const launchTaskUpdate = defineUpdate<MesosTaskRecord, [MesosTaskSpec]>('launchTask');
export const killTaskUpdate = defineUpdate<MesosTaskRecord | null, [{ taskId: string }]>('killTask');
export const mesosTasksQuery = defineQuery<MesosFrameworkView>('mesosTasks');

export const mesosSubscribedSignal = defineSignal<[MesosSubscribed]>('mesosSubscribed');
/** The subscription's stream broke: its stream id is no good for calls any more. */
export const mesosDisconnectedSignal = defineSignal<[{ streamId: string }]>('mesosDisconnected');
export const mesosOffersSignal = defineSignal<[{ streamId: string; offers: Offer[] }]>('mesosOffers');
export const mesosRescindSignal = defineSignal<[{ streamId: string; offerId: string }]>('mesosRescind');
export const mesosUpdateSignal = defineSignal<[{ streamId: string; status: TaskStatus }]>('mesosUpdate');
/**
 * An ERROR event; `removed` when the master no longer knows the framework (failover timeout passed).
 * `streamId` names the stream it came on (absent in histories recorded before it was added).
 */
export const mesosErrorSignal =
  defineSignal<[{ message: string; removed: boolean; streamId?: string }]>('mesosError');

/** Failure type of a launch the framework gave up on, or of a task killed before it ran. */
export const TASK_NOT_RUNNING = 'MesosTaskNotRunning';
/** Failure type of a launch still waiting for an offer when the update's wait ended: ask again. */
export const TASK_STILL_PENDING = 'MesosTaskStillPending';
