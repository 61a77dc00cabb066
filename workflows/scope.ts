// Names of the control path's Temporal resources, under an optional prefix. Production uses the
// empty prefix (exactly common/names.ts); each test file uses its own so files can share a server.
import {
  ACTION_POOL_ID_PREFIX,
  STEM_CELL_POOL_ID_PREFIX,
  HOSTS_WORKFLOW_ID,
  PROVISIONING_TASK_QUEUE,
  MESOS_FRAMEWORK_WORKFLOW_ID,
  RECONCILE_SCHEDULE_ID,
  SCALE_DOWN_SCHEDULE_ID,
  EVICTION_WORKFLOW_ID,
  actionPoolWorkflowId,
  controllerTaskQueue,
  hostTaskQueue,
  isClusterHost,
  knativeServiceWorkflowId,
  stemCellPoolWorkflowId,
  type ContainerKeyRef,
} from '../common/names';

/** Carried in every workflow input so the workflows find each other under the same prefix. */
export interface Scope {
  /** '' in production. */
  prefix: string;
}

export const DEFAULT_SCOPE: Scope = { prefix: '' };

export function scopedNames(scope: Scope) {
  const p = scope.prefix;
  return {
    provisioningQueue: p + PROVISIONING_TASK_QUEUE,
    hostQueue: (hostId: string): string =>
      p + (isClusterHost(hostId) ? PROVISIONING_TASK_QUEUE : hostTaskQueue(hostId)),
    controllerQueue: (controllerId: string): string => p + controllerTaskQueue(controllerId),
    hostsWorkflowId: p + HOSTS_WORKFLOW_ID,
    actionPoolId: (ref: ContainerKeyRef): string => p + actionPoolWorkflowId(ref),
    stemCellPoolId: (kind: string, memoryMB: number): string => p + stemCellPoolWorkflowId(kind, memoryMB),
    knativeServiceId: (ref: ContainerKeyRef): string => p + knativeServiceWorkflowId(ref),
    scaleDownScheduleId: p + SCALE_DOWN_SCHEDULE_ID,
    evictionWorkflowId: p + EVICTION_WORKFLOW_ID,
    reconcileScheduleId: p + RECONCILE_SCHEDULE_ID,
    mesosFrameworkId: p + MESOS_FRAMEWORK_WORKFLOW_ID,
    /**
     * A pool workflow id of this scope (action pools and stem-cell pools). The empty production
     * prefix must not claim the pools of prefixed scopes (tests, benchmarks) left on the server.
     */
    ownsWorkflowId: (workflowId: string): boolean =>
      workflowId.startsWith(p + ACTION_POOL_ID_PREFIX) || workflowId.startsWith(p + STEM_CELL_POOL_ID_PREFIX),
  };
}

export type ScopedNames = ReturnType<typeof scopedNames>;
