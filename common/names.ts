// Every resource name Gust makes, in one place: workflow ids, task queues, container names, labels.
// No Node APIs: workflow code imports this module.
import type { Action, ActionRef } from './types';

export const PROVISIONING_TASK_QUEUE = 'gust-provisioning';

export const hostTaskQueue = (hostId: string): string => `host-${hostId}`;

/**
 * A host id starting with `cluster.` names a whole cluster whose own scheduler places containers
 * (Kubernetes): it has no agent, and its container activities run on the provisioning queue.
 */
export const CLUSTER_HOST_PREFIX = 'cluster.';
export const isClusterHost = (hostId: string): boolean => hostId.startsWith(CLUSTER_HOST_PREFIX);
export const controllerTaskQueue = (controllerId: string): string => `controller-${controllerId}`;

/**
 * Action-pool workflow id: `pool/<namespace>/<action>`, `namespace` may contain a package
 * (`guest/pkg`); with `~<invoker>` appended for the containers another namespace invokes (audit L9).
 */
export const ACTION_POOL_ID_PREFIX = 'pool/';
export const STEM_CELL_POOL_ID_PREFIX = 'stemcells/';
export const actionPoolWorkflowId = (ref: ContainerKeyRef): string =>
  `${ACTION_POOL_ID_PREFIX}${containerKeyPath(ref)}`;
/**
 * Knative service workflow id (GUST_BACKEND=knative): one per action and invoking namespace, owns
 * its Knative Service.
 */
export const knativeServiceWorkflowId = (ref: ContainerKeyRef): string => `knative/${containerKeyPath(ref)}`;
export const stemCellPoolWorkflowId = (kind: string, memoryMB: number): string =>
  `${STEM_CELL_POOL_ID_PREFIX}${kind}/${memoryMB}mb`;
export const HOSTS_WORKFLOW_ID = 'hosts';
export const SCALE_DOWN_SCHEDULE_ID = 'scale-down';
/** At most one eviction runs at a time (workflows/eviction.ts). */
export const EVICTION_WORKFLOW_ID = 'evict-idle';
export const RECONCILE_SCHEDULE_ID = 'reconcile';
/** The Mesos framework workflow: one per Gust installation (GUST_BACKEND=mesos). */
export const MESOS_FRAMEWORK_WORKFLOW_ID = 'mesos-framework';

/** The tenant of an action namespace that may hold a package (`guest/pkg` → `guest`). */
export const tenantOf = (namespace: string): string => namespace.split('/')[0]!;

/** Fully qualified action name as OpenWhisk writes it: `guest/pkg/name`. */
export const actionPath = (ref: Pick<ActionRef, 'namespace' | 'name'>): string =>
  `${ref.namespace}/${ref.name}`;

/**
 * The revision of an action's code that routers, pools and Knative Services key containers by: its
 * version with, as semver build metadata, the time it was last written (`0.0.1+1764540000000`). An
 * update that sets `version` to the old value is a new revision all the same, so its warm
 * containers are replaced (audit M10).
 */
export const actionRevision = (action: Pick<Action, 'version' | 'updated'>): string =>
  `${action.version}+${action.updated}`;

/**
 * Audit L9: whose warm containers a run may use. As in OpenWhisk (whose ContainerPool keeps warm
 * containers per action and invocation namespace), a container serves one invoking namespace only,
 * so no run sees what another namespace's run left in its memory or /init environment. The invoking
 * namespace is recorded only when it is not the action's own tenant (an action invoked through a
 * binding of another namespace's package, or by its fully qualified name): the common case keeps
 * the router keys, pool ids and labels it always had, and the pools running now stay valid.
 */
export const invokerOf = (actionNamespace: string, invokingNamespace: string): string | undefined =>
  invokingNamespace === tenantOf(actionNamespace) ? undefined : invokingNamespace;

/** What identifies one set of containers: the action and, when not its own, the invoking namespace. */
export type ContainerKeyRef = Pick<ActionRef, 'namespace' | 'name' | 'invoker'>;

/** Appended to keys and workflow ids for another namespace's containers; `~` is in no entity name. */
const invokerSuffix = (ref: Pick<ActionRef, 'invoker'>): string =>
  ref.invoker === undefined ? '' : `~${ref.invoker}`;

/**
 * One set of containers as a path: `guest/pkg/act` for the action's own namespace, and
 * `guest/pkg/act~alice` for alice's runs of it. Pool ids, Knative Services and their workflows are
 * named from it.
 */
export const containerKeyPath = (ref: ContainerKeyRef): string => `${actionPath(ref)}${invokerSuffix(ref)}`;

/** The namespace an action's containers count against (its quota): the invoking one (audit L9). */
export const chargedNamespace = (ref: Pick<ActionRef, 'namespace' | 'invoker'>): string =>
  ref.invoker ?? tenantOf(ref.namespace);

/**
 * The reference to an action's current revision that its containers carry, for runs invoked by
 * `invokingNamespace` (default: the action's own tenant).
 */
export const actionRefOf = (
  action: Pick<Action, 'namespace' | 'name' | 'version' | 'updated'>,
  invokingNamespace?: string,
): ActionRef => {
  const invoker =
    invokingNamespace === undefined ? undefined : invokerOf(action.namespace, invokingNamespace);
  return {
    namespace: action.namespace,
    name: action.name,
    version: actionRevision(action),
    ...(invoker === undefined ? {} : { invoker }),
  };
};

/** Key of one action revision (and invoking namespace) in routers and pools. */
export const actionVersionKey = (ref: ActionRef): string =>
  `${ref.namespace}/${ref.name}@${ref.version}${invokerSuffix(ref)}`;

/** Labels every Gust container carries, so a backend can list what Gust owns. */
export const LABEL_PREFIX = 'io.gust.';
export const LABELS = {
  managed: `${LABEL_PREFIX}managed`,
  host: `${LABEL_PREFIX}host`,
  kind: `${LABEL_PREFIX}kind`,
  memory: `${LABEL_PREFIX}memory`,
  namespace: `${LABEL_PREFIX}namespace`,
  action: `${LABEL_PREFIX}action`,
  version: `${LABEL_PREFIX}version`,
  /** The invoking namespace, on the containers of another namespace's action (audit L9). */
  invoker: `${LABEL_PREFIX}invoker`,
  owner: `${LABEL_PREFIX}owner`,
  /** On the forwarder container of a TCP-only image: the name of the action container it serves. */
  forwarderOf: `${LABEL_PREFIX}forwarder-of`,
} as const;

/**
 * A container name that is stable across retries of the same create: the owner (pool workflow)
 * supplies a sequence number it has recorded in its history. Docker names allow [a-zA-Z0-9_.-].
 */
export function containerName(owner: string, seq: number): string {
  const safe = owner.replace(/[^a-zA-Z0-9_.-]+/g, '_').slice(0, 100);
  return `gust_${safe}_${seq}`;
}

/**
 * Audit M2: `containerName` gives `pool/alice/corp/act` (namespace alice, package corp) and
 * `pool/alice@corp/act` (namespace alice@corp) one name, and so one tenant another's container.
 * Here every character Docker does not allow in a name, and `_` itself, is written as `_` and four
 * hex digits, so no two owners share a name; past 100 characters the rest gives way to a hash of
 * the whole owner. Action pools name their containers so since patch `distinct-container-names`.
 */
export function distinctContainerName(owner: string, seq: number): string {
  let safe = owner.replace(/[^a-zA-Z0-9.-]/g, (ch) => `_${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (safe.length > 100) safe = `${safe.slice(0, 91)}_${fnv1a(owner)}`;
  return `gust_${safe}_${seq}`;
}

/** 32-bit FNV-1a as 8 hex digits: deterministic and free of Node APIs (workflow code uses it). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** Every controller polls this queue for alarm fires (a schedule targets one queue, not a controller). */
export const ALARMS_TASK_QUEUE = 'gust-alarms';
/** One Temporal Schedule per alarm feed trigger: `alarm/<namespace>/<trigger>`. */
export const alarmScheduleId = (namespace: string, trigger: string): string =>
  `alarm/${namespace}/${trigger}`;
