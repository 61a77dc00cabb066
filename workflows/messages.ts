// Signals, updates and queries of the control-path workflows, with their input types. Imported by
// the workflows and by the clients (control plane, activities, tests). No Node APIs.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { actionRefOf } from '../common/names';
import type { Action, ActionRef, ContainerInfo, ContainerUsage } from '../common/types';
import type { Scope } from './scope';
import type { DemandReport } from './scaling';
import type { HostRecord } from './placement';

// ---------------------------------------------------------------------------------------------
// Shared vocabulary

/** What a pool needs to know about an action to run it: never its code (keeps history small). */
export interface ActionSpec {
  ref: ActionRef;
  kind: string;
  memoryMB: number;
  /** `limits.concurrency`: requests one container runs at once. */
  slots: number;
  /** Blackbox image, when the action brings its own. */
  image?: string;
  /** `Action.updated`: orders versions, the newest wins. */
  updated: number;
}

/** `invokingNamespace`: whose runs the containers serve (default: the action's own tenant; audit L9). */
export function actionSpecOf(action: Action, invokingNamespace?: string): ActionSpec {
  return {
    ref: actionRefOf(action, invokingNamespace),
    kind: action.exec.kind,
    memoryMB: action.limits.memory,
    slots: Math.max(1, action.limits.concurrency),
    ...(action.exec.image ? { image: action.exec.image } : {}),
    updated: action.updated,
  };
}

/** One running controller process: a restart with the same id is a new incarnation. */
export interface LiveController {
  controllerId: string;
  /** Sorts by the process's start time: a later restart has a greater incarnation. */
  incarnation: string;
}

/** Why and how a container leaves its pool: `revoke` first when its router may still use it. */
export interface Removal {
  revoke: boolean;
  reason: string;
}

interface PoolContainerBase {
  name: string;
  memoryMB: number;
  /** Action version, or null for a stem cell. */
  version: string | null;
  controllerId: string;
  /** Workflow time the pool recorded it. */
  since: number;
  /** Marks it for removal; the pool's loop removes it once the current step is done. */
  removal: Removal | null;
}

/** Recorded, then placed (`host`) and created (`info`); its lease is not done yet. */
export interface CreatingContainer extends PoolContainerBase {
  state: 'creating';
  host: string | null;
  info: ContainerInfo | null;
  incarnation: null;
  leasedAt: null;
}

/** Leased to `controllerId` (the incarnation that took it) at `leasedAt`, workflow time. */
export interface LeasedContainer extends PoolContainerBase {
  state: 'leased';
  host: string;
  info: ContainerInfo;
  incarnation: string;
  leasedAt: number;
}

/** Being revoked and destroyed, from whichever step it had reached. */
export interface RemovingContainer extends PoolContainerBase {
  state: 'removing';
  host: string | null;
  info: ContainerInfo | null;
  incarnation: string | null;
  leasedAt: number | null;
}

/**
 * One container as its pool records it (action pools and stem-cell pools alike). The name is
 * chosen (and recorded) before the create activity runs, so retries and reconcile both recognise
 * it. Lifecycle: creating → leased → removing → gone. The same JSON fields in every state (nulls
 * where unknown), so records carried by continue-as-new from earlier versions read as they are.
 */
export type PoolContainer = CreatingContainer | LeasedContainer | RemovingContainer;

export interface PoolInventory {
  workflowId: string;
  containers: PoolContainer[];
  /** The pool did not answer in time (stuck, or no worker): what it owns is unknown. */
  unanswered?: true;
  /**
   * A stem-cell pool: the action pools it handed cells to lately. The cells' owner label still
   * names the stem-cell pool, so reconcile asks these too when visibility does not list them yet.
   */
  handedTo?: string[];
}

/** Sent by the hosts workflow whenever the set of live controllers changes. */
export interface ControllersChanged {
  controllers: LiveController[];
  /** Workflow time the list was computed: leases granted after it are never reclaimed by it. */
  asOf: number;
}

export const controllersChangedSignal = defineSignal<[ControllersChanged]>('controllersChanged');
export const inventoryQuery = defineQuery<PoolInventory>('inventory');
/** A container a router reported dead or broken; `containerId` is the backend id. */
export const containerFailedSignal =
  defineSignal<[{ containerId: string; reason: string }]>('containerFailed');
/** Reconcile: these containers are gone from their host; replace them. */
export const repairSignal = defineSignal<[{ names: string[] }]>('repair');

// ---------------------------------------------------------------------------------------------
// Action pool

export interface ActionPoolInput {
  scope: Scope;
  namespace: string;
  name: string;
  /** The invoking namespace its containers serve, when not the action's own (audit L9; ActionRef.invoker). */
  invoker?: string;
  /** Ceiling on the pool's containers. @default 64 */
  maxContainers?: number;
  /** Containers the pool creates at once; further requests wait, withdrawable. @default 2 (DEFAULT_MAX_CREATING) */
  maxCreating?: number;
  /**
   * A pool with no containers and nothing asked of it for this long completes (audit M6); the next
   * request starts a new one. @default 15 minutes (IDLE_POOL_COMPLETES_MS)
   */
  completeWhenIdleMs?: number;
  /** Carried over by continue-as-new. */
  state?: ActionPoolState;
}

export interface ActionPoolState {
  action: ActionSpec | null;
  nextSeq: number;
  containers: PoolContainer[];
  pending: PendingRequest[];
  /** The latest list of live controllers; leases that complete later are checked against it too. */
  controllers: ControllersChanged | null;
  /**
   * Containers reported failed before this pool knew them: a stem cell whose first activation
   * failed while its hand-over was under way. Removed when the hand-over arrives (audit H6).
   */
  failedBeforeAdopt?: string[];
  /** Ids of the latest requests taken (oldest forgotten): a retry of one of them is not taken again. */
  requestIds?: string[];
}

export interface PendingRequest {
  controllerId: string;
  count: number;
  /** Workflow time the request was taken (absent from histories before pacing). */
  since?: number;
}

export interface RequestContainersInput {
  controllerId: string;
  action: ActionSpec;
  count: number;
  /** Retries of one request carry its id: the pool takes it once (absent from older routers). */
  requestId?: string;
}

/** A router's load fell: it no longer needs `count` of the containers it asked for. */
export interface WithdrawContainersInput {
  controllerId: string;
  count: number;
}

export interface DemandInput extends DemandReport {
  action: ActionSpec;
}

/** Handed over by a stem-cell pool once a router has initialised one of its cells for this action. */
export interface AdoptContainerInput {
  action: ActionSpec;
  container: PoolContainer;
}

export interface ScaleDownInput {
  keepAliveMs: number;
  minContainers: number;
  usage: ContainerUsage[];
}

/**
 * Cold path: a router asks for containers; they arrive through the lease activity. A signal, not an
 * update: an update whose handler wakes the pool's loop lets the loop's commands and the update's
 * completion race within one workflow task, and a fresh worker can order them differently on replay
 * (docs/workflow-upgrades.md, "The incident"). Sent with signal-with-start, so the first request
 * creates the pool.
 */
export const requestContainersSignal = defineSignal<[RequestContainersInput]>('containersRequested');
/** The pool forgets that many of the router's requested containers it has not started creating. */
export const withdrawContainersSignal = defineSignal<[WithdrawContainersInput]>('containersWithdrawn');
/**
 * The update this request used to be. Kept registered so pools started by an earlier Gust replay;
 * no current caller sends it.
 * @deprecated use requestContainersSignal
 */
export const requestContainersUpdate = defineUpdate<void, [RequestContainersInput]>('requestContainers');
/**
 * Retired: routers scale pools up with requestContainersSignal only (api/invoke/capacity-requests.ts).
 * Still registered so histories that hold demand signals replay (action-pool.ts, DEMAND_RETIRED_PATCH).
 * @deprecated nothing sends it
 */
export const demandSignal = defineSignal<[DemandInput]>('demand');
export const adoptContainerSignal = defineSignal<[AdoptContainerInput]>('adoptContainer');
export const scaleDownSignal = defineSignal<[ScaleDownInput]>('scaleDown');

// ---------------------------------------------------------------------------------------------
// Stem-cell pool

export interface StemCellPoolInput {
  scope: Scope;
  kind: string;
  memoryMB: number;
  /** Cells kept leased to each live controller. */
  perController: number;
  image?: string;
  state?: StemCellPoolState;
}

export interface StemCellPoolState {
  nextSeq: number;
  cells: PoolContainer[];
  controllers: ControllersChanged | null;
  /** Claimed cells on their way to their action's pool (still owned here until it has them). */
  handOvers: AdoptContainerInput[];
  /** The action pools that took cells, and when (absent in runs started before it existed). */
  handedTo?: { workflowId: string; at: number }[];
  /** Provisions that failed in a row, and when replenishing may try again (absent: none failed). */
  provisionFailures?: { count: number; retryAt: number };
}

export interface StemCellClaimedInput {
  /** Backend id of the claimed cell. */
  containerId: string;
  controllerId: string;
  action: ActionSpec;
}

export const stemCellClaimedSignal = defineSignal<[StemCellClaimedInput]>('stemCellClaimed');
export const setStemCellTargetSignal = defineSignal<[{ perController: number }]>('setStemCellTarget');

// ---------------------------------------------------------------------------------------------
// Hosts (agents and controllers registry, placement)

export interface HostsInput {
  scope: Scope;
  /** Agents and controllers not heard from for this long are dead. */
  leaseTimeoutMs: number;
  state?: HostsState;
}

export interface ControllerRecord extends LiveController {
  lastSeen: number;
}

export interface HostsState {
  hosts: HostRecord[];
  controllers: ControllerRecord[];
  /** When any agent or controller was last heard (absent in state from before it existed). */
  lastHeard?: number;
}

export interface HostHeartbeat {
  hostId: string;
  capacityMB: number;
  /**
   * The agent endpoint controllers on other machines reach this host's containers through
   * (GUST_AGENT_ADVERTISE_URL); absent: none (single host).
   */
  endpoint?: string;
}

export interface PlaceContainerInput {
  /** Container name: placing the same name twice returns the first answer (retries are safe). */
  name: string;
  memoryMB: number;
  group: string;
  avoid?: string[];
  /** An action's container: when no host has room, idle containers are evicted for it (stem cells wait). */
  evictIdle?: boolean;
  /** An action's container: its tenant (the first segment of the action's namespace). */
  namespace?: string;
  /** The memory that tenant's containers may reserve in all (GUST_NAMESPACE_MEMORY_QUOTA_MB); absent: no quota. */
  namespaceQuotaMB?: number;
}

export interface ClusterView {
  /** Live hosts only. `lastSeen`: workflow time of its last heartbeat (absent from older workers' answers). */
  hosts: { id: string; capacityMB: number; reservedMB: number; lastSeen?: number; endpoint?: string }[];
  /** `lastSeen`: workflow time of its last heartbeat (absent from older workers' answers). */
  controllers: (LiveController & { lastSeen?: number })[];
  asOf: number;
}

export const hostHeartbeatSignal = defineSignal<[HostHeartbeat]>('hostHeartbeat');
/** An agent stopped cleanly: its host is not live from now (its reservations stay with its containers). */
export const hostLeftSignal = defineSignal<[{ hostId: string }]>('hostLeft');
export const controllerHeartbeatSignal = defineSignal<[LiveController]>('controllerHeartbeat');
/** A controller stopped cleanly: it leaves the registry now, not a lease timeout later. */
export const controllerLeftSignal = defineSignal<[LiveController]>('controllerLeft');
export const placeContainerUpdate = defineUpdate<{ hostId: string }, [PlaceContainerInput]>('placeContainer');
export const releaseContainersSignal = defineSignal<[{ names: string[] }]>('releaseContainers');
export const clusterQuery = defineQuery<ClusterView>('cluster');

// ---------------------------------------------------------------------------------------------
// Scheduled workflows

export interface EvictionInput {
  scope: Scope;
  /** Memory a placement could not find on any host. */
  neededMB: number;
  /** Per action (`namespace/name`): containers kept however idle, as for scale-down. */
  minContainers?: Record<string, number>;
  /** A tenant at its quota: only its idle containers go, on any host, down to the quota. */
  tenant?: { namespace: string; quotaMB: number };
}

export interface ScaleDownWorkflowInput {
  scope: Scope;
  keepAliveMs: number;
  /** Per action (`namespace/name`): containers kept however idle. @default 0 */
  minContainers?: Record<string, number>;
}

export interface ReconcileWorkflowInput {
  scope: Scope;
  /** A container younger than this is never an orphan (its owner may not have recorded it yet). */
  orphanGraceMs: number;
}
