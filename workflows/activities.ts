// Every activity the control-path workflows call, with its timeouts and retries in one place.
// Proxies are built per call so each can carry a readable summary for the UI and its task queue.
import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { ClusterActivities } from '../activities/cluster';
import type { ControllerActivities } from '../activities/controller';
import type { HostActivities } from '../activities/host';
import type { KnativeActivities, KnativeRouteActivities } from '../activities/knative';
import type { ScopedNames } from './scope';

/**
 * create: a runtime container starts in seconds, an image pull can take longer, so each attempt
 * may run 60 s and must heartbeat every 10 s (the agent heartbeats every 2 s): an agent killed
 * mid-create is noticed after 10 s and the retry runs on the restarted agent, where the
 * deterministic name makes it find the first container. 5 attempts with backoff, and 3 minutes
 * in all, after which the pool gives the container up (reconcile removes any leftover).
 */
const CREATE: ActivityOptions = {
  startToCloseTimeout: '60s',
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: '3m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
};

/** destroy is idempotent: retry for 2 minutes; a host that stays away is left to reconcile. */
const DESTROY: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s' },
};

/** list: a dead host must not stall reconcile; the next run tries again. */
const LIST: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '15s',
  retry: { maximumAttempts: 2 },
};

/**
 * lease: short, because a dead controller must not block the pool — after 10 s the container is
 * given up and removed (the router will ask again if it still needs one).
 */
const LEASE: ActivityOptions = {
  scheduleToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
};

/**
 * revoke waits for in-flight work (an action may run 5 minutes), so it may run 6 minutes and
 * heartbeats; but it must be picked up within 10 s, or the controller is dead and there is
 * nothing to drain (schedule-to-start timeouts are not retried).
 */
const REVOKE: ActivityOptions = {
  scheduleToStartTimeout: '10s',
  startToCloseTimeout: '6m',
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 2 },
};

/** usage: one try; a controller that does not answer in 5 s is skipped until the next run. */
const USAGE: ActivityOptions = { scheduleToCloseTimeout: '5s', retry: { maximumAttempts: 1 } };

/**
 * place: retried for a minute while no host has room (agents may still be registering);
 * placing the same name twice is idempotent in the hosts workflow.
 */
const PLACE: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s' },
};

/**
 * place as a local activity: the same retries, run in the pool's own workflow task (its result
 * needs no task of its own). Back-offs over a second wait on a server timer, so a pool waiting for
 * room still takes signals in between.
 */
const PLACE_LOCALLY: LocalActivityOptions = {
  startToCloseTimeout: PLACE.startToCloseTimeout,
  scheduleToCloseTimeout: PLACE.scheduleToCloseTimeout,
  retry: PLACE.retry,
  localRetryThreshold: '1s',
};

/** Other cluster calls (queries, broadcasts, signal-with-start): quick, retried for a minute. */
const CLUSTER: ActivityOptions = {
  startToCloseTimeout: '20s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
};

export const hostActivities = (names: ScopedNames, hostId: string, summary: string) => ({
  create: proxyActivities<HostActivities>({ ...CREATE, taskQueue: names.hostQueue(hostId), summary }),
  destroy: proxyActivities<HostActivities>({ ...DESTROY, taskQueue: names.hostQueue(hostId), summary }),
  list: proxyActivities<HostActivities>({ ...LIST, taskQueue: names.hostQueue(hostId), summary }),
});

export const controllerActivities = (names: ScopedNames, controllerId: string, summary: string) => ({
  lease: proxyActivities<ControllerActivities>({
    ...LEASE,
    taskQueue: names.controllerQueue(controllerId),
    summary,
  }),
  revoke: proxyActivities<ControllerActivities>({
    ...REVOKE,
    taskQueue: names.controllerQueue(controllerId),
    summary,
  }),
  usage: proxyActivities<ControllerActivities>({
    ...USAGE,
    taskQueue: names.controllerQueue(controllerId),
    summary,
  }),
});

export const clusterActivities = (names: ScopedNames, summary?: string) => ({
  /** Histories recorded before placement ran locally (container-ops.ts, PLACE_LOCALLY_PATCH). */
  place: proxyActivities<ClusterActivities>({ ...PLACE, taskQueue: names.provisioningQueue, summary }),
  /** On the provisioning queue's worker, which runs the pools: one workflow task less per container. */
  placeLocally: proxyLocalActivities<ClusterActivities>({ ...PLACE_LOCALLY, summary }),
  other: proxyActivities<ClusterActivities>({ ...CLUSTER, taskQueue: names.provisioningQueue, summary }),
});

/**
 * Knative (GUST_BACKEND=knative). apply: a Kubernetes API call, retried for a minute. waitReady:
 * one attempt that heartbeats while it polls the Service (its own deadline, GUST_KNATIVE_READY_TIMEOUT_MS,
 * ends it with the Service's conditions); a rollout that failed is reported, not retried.
 */
const KNATIVE_APPLY: ActivityOptions = {
  ...CLUSTER,
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2m',
};
const KNATIVE_WAIT: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '15s',
  retry: { maximumAttempts: 2, nonRetryableErrorTypes: ['KnativeRevisionFailed', 'KnativeNotReady'] },
};

export const knativeActivities = {
  provisioner: (names: ScopedNames, summary: string) =>
    proxyActivities<KnativeActivities>({ ...KNATIVE_APPLY, taskQueue: names.provisioningQueue, summary }),
  waitReady: (names: ScopedNames, summary: string) =>
    proxyActivities<KnativeActivities>({ ...KNATIVE_WAIT, taskQueue: names.provisioningQueue, summary }),
  controller: (names: ScopedNames, controllerId: string, summary: string) =>
    proxyActivities<KnativeRouteActivities>({
      ...LEASE,
      taskQueue: names.controllerQueue(controllerId),
      summary,
    }),
};
