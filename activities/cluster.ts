// Cluster-wide activities of the provisioner (task queue `gust-provisioning`): the calls one
// workflow makes on others that Temporal offers only to clients — updates, queries, listing
// through visibility, signal-with-start. They use the worker's own client (activity context).
import { ApplicationFailure, cancellationSignal, getClient } from '@temporalio/activity';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import {
  adoptContainerSignal,
  clusterQuery,
  controllersChangedSignal,
  inventoryQuery,
  placeContainerUpdate,
  type AdoptContainerInput,
  type ClusterView,
  type ControllersChanged,
  type EvictionInput,
  type PlaceContainerInput,
  type PoolInventory,
} from '../workflows/messages';
import { scopedNames, type Scope } from '../workflows/scope';
import { actionPoolStartOptions } from '../workflows/start-options';
import { untilAborted } from '../common/deadline';
import { isWorkflowGone } from '../common/temporal-errors';

/** How long reconcile waits for one pool's inventory before it counts the pool as unanswered. */
const POOL_QUERY_TIMEOUT_MS = 2_000;
/** Pools queried at once, so thousands of pools do not become thousands of concurrent queries. */
const POOL_QUERY_CONCURRENCY = 32;

const POOL_TYPES = ['actionPoolWorkflow', 'stemCellPoolWorkflow'];

/** Running pool workflows of this scope, through visibility (eventually consistent). */
async function listPoolIds(
  client: Client,
  scope: Scope,
  unindexed?: (id: string) => boolean,
): Promise<string[]> {
  const names = scopedNames(scope);
  const query =
    `WorkflowType IN (${POOL_TYPES.map((t) => `'${t}'`).join(',')}) AND ExecutionStatus = 'Running'` +
    ` AND TaskQueue = '${names.provisioningQueue}'`;
  const ids = new Set<string>();
  for await (const wf of client.workflow.list({ query })) {
    if (names.ownsWorkflowId(wf.workflowId) && !unindexed?.(wf.workflowId)) ids.add(wf.workflowId);
  }
  return [...ids];
}

/** What describing a container's owner by id (its latest run, strongly consistent) or failing to says. */
export type OwnerCheck = { status: WorkflowExecutionStatusName } | { error: unknown };

/**
 * `gone`: the owner has finished or never existed, its containers are orphans; `alive`: its
 * inventory says what it owns (a run that continued as new answers through its successor);
 * `unknown`: its containers are left alone this round — never destroy on doubt.
 */
export function judgeOwner(check: OwnerCheck): 'gone' | 'alive' | 'unknown' {
  if ('error' in check) return isWorkflowGone(check.error) ? 'gone' : 'unknown';
  switch (check.status) {
    case 'RUNNING':
    case 'PAUSED':
    case 'CONTINUED_AS_NEW':
      return 'alive';
    case 'COMPLETED':
    case 'FAILED':
    case 'CANCELLED':
    case 'TERMINATED':
    case 'TIMED_OUT':
      return 'gone';
    default:
      return 'unknown';
  }
}

export interface ClusterActivitiesOptions {
  /** Per action (`namespace/name`): containers eviction keeps however idle (GUST_MIN_CONTAINERS). */
  minContainers?: Record<string, number>;
  /** Memory one namespace's containers may reserve in all (GUST_NAMESPACE_MEMORY_QUOTA_MB); 0: no quota. */
  namespaceQuotaMB?: number;
  /** Containers a pool started here (by a stem cell's hand-over) creates at once (GUST_POOL_MAX_CREATING). */
  maxCreating?: number;
  /** Test seam: pools the visibility listing misses, as it may for a while after a continue-as-new. */
  unindexedPools?: (workflowId: string) => boolean;
}

export function createClusterActivities(options: ClusterActivitiesOptions = {}) {
  const quota = options.namespaceQuotaMB ?? 0;
  /** No host has room: idle containers make way (workflows/eviction.ts); one eviction at a time. */
  const evict = async (scope: Scope, neededMB: number, namespace?: string): Promise<void> => {
    const input: EvictionInput = { scope, neededMB, minContainers: options.minContainers };
    if (namespace !== undefined) input.tenant = { namespace, quotaMB: quota };
    const names = scopedNames(scope);
    await getClient()
      .workflow.start('evictionWorkflow', {
        workflowId: names.evictionWorkflowId,
        taskQueue: names.provisioningQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary:
          namespace === undefined
            ? `Evict idle containers to make room for ${neededMB} MB`
            : `Evict idle containers of namespace ${namespace} to keep it within its quota`,
      })
      .catch(() => undefined); // the placement is retried either way
  };
  return {
    /**
     * Reserves memory on a host through the hosts workflow. While no host has room it fails
     * retryably (the caller retries for a minute), after starting an eviction of idle containers
     * when the placement is for an action's container.
     */
    async placeContainer(scope: Scope, input: PlaceContainerInput): Promise<{ hostId: string }> {
      const hosts = getClient().workflow.getHandle(scopedNames(scope).hostsWorkflowId);
      const request =
        quota > 0 && input.namespace !== undefined ? { ...input, namespaceQuotaMB: quota } : input;
      try {
        // The hosts workflow runs on this worker's queue, and a worker shutting down answers no
        // update: the placement ends on the shutdown's cancellation, or the shutdown waits for it.
        const update = hosts.executeUpdate(placeContainerUpdate, { args: [request] });
        return await untilAborted(update, cancellationSignal());
      } catch (err) {
        const cause = (err as { cause?: { message?: string; type?: string } }).cause;
        if (cause?.type === 'NoCapacity' || cause?.type === 'NamespaceQuota') {
          // At its quota, a tenant's own idle containers make way; on a full host, anyone's.
          const tenant = cause.type === 'NamespaceQuota' ? input.namespace : undefined;
          if (input.evictIdle) await evict(scope, input.memoryMB, tenant);
          throw ApplicationFailure.retryable(cause.message ?? 'no capacity', cause.type);
        }
        throw err;
      }
    },

    async describeCluster(scope: Scope): Promise<ClusterView> {
      return getClient().workflow.getHandle(scopedNames(scope).hostsWorkflowId).query(clusterQuery);
    },

    /** Tells every running pool which controllers are alive, so they reclaim the others' leases. */
    async broadcastControllers(scope: Scope, message: ControllersChanged): Promise<number> {
      const client = getClient();
      const ids = await listPoolIds(client, scope, options.unindexedPools);
      await Promise.all(
        ids.map(async (id) => {
          try {
            await client.workflow.getHandle(id).signal(controllersChangedSignal, message);
          } catch (err) {
            if (!isWorkflowGone(err)) throw err;
          }
        }),
      );
      return ids.length;
    },

    /**
     * Every container each running pool owns (including those being created). A pool that cannot
     * answer in time (stuck, or its worker is stopping) is reported as unanswered instead of
     * failing the whole reconcile; the activity also gives up when it is cancelled (shutdown).
     * `owners` (the owner labels of the containers reconcile found) are confirmed by id when
     * visibility does not list them (audit L13): a live one is asked for its inventory too, one
     * that cannot be described is unanswered, and only one that is gone owns nothing.
     */
    async listPoolInventories(scope: Scope, owners: string[] = []): Promise<PoolInventory[]> {
      const client = getClient();
      const bounded = <T>(call: () => Promise<T>): Promise<T> =>
        client.withAbortSignal(cancellationSignal(), () =>
          client.withDeadline(Date.now() + POOL_QUERY_TIMEOUT_MS, call),
        );
      const inventory = async (workflowId: string): Promise<PoolInventory | null> => {
        try {
          return await bounded(() => client.workflow.getHandle(workflowId).query(inventoryQuery));
        } catch (err) {
          if (isWorkflowGone(err)) return null;
          if (cancellationSignal().aborted) throw err;
          return { workflowId, containers: [], unanswered: true };
        }
      };
      const describe = async (workflowId: string): Promise<OwnerCheck> => {
        try {
          return {
            status: (await bounded(() => client.workflow.getHandle(workflowId).describe())).status.name,
          };
        } catch (error) {
          if (cancellationSignal().aborted) throw error;
          return { error };
        }
      };
      const listed = await listPoolIds(client, scope, options.unindexedPools);
      const asked = new Set(listed);
      /** Pools visibility did not list, confirmed by id first: never destroy on doubt. */
      const confirmed = async (ids: string[]): Promise<PoolInventory[]> => {
        const fresh = [...new Set(ids)].filter((id) => !asked.has(id));
        for (const id of fresh) asked.add(id);
        const found = await mapWithConcurrency(fresh, POOL_QUERY_CONCURRENCY, async (workflowId) => {
          const verdict = judgeOwner(await describe(workflowId));
          if (verdict === 'gone') return null;
          if (verdict === 'unknown') return { workflowId, containers: [], unanswered: true as const };
          return inventory(workflowId);
        });
        return found.filter((i): i is PoolInventory => i !== null);
      };
      const found = [
        ...(await mapWithConcurrency(listed, POOL_QUERY_CONCURRENCY, inventory)).filter(
          (i): i is PoolInventory => i !== null,
        ),
        ...(await confirmed(owners)),
      ];
      // An adopted stem cell's label names the stem-cell pool; the action pool that owns it now
      // may not be listed yet either.
      return [...found, ...(await confirmed(found.flatMap((i) => i.handedTo ?? [])))];
    },

    /** Gives a claimed stem cell to its action's pool, starting the pool if it does not exist. */
    async handOverStemCell(scope: Scope, input: AdoptContainerInput): Promise<void> {
      await getClient().workflow.signalWithStart('actionPoolWorkflow', {
        ...actionPoolStartOptions(scope, input.action, { maxCreating: options.maxCreating }),
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        signal: adoptContainerSignal,
        signalArgs: [input],
      });
    },
  };
}

export type ClusterActivities = ReturnType<typeof createClusterActivities>;

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
