// The action pool: one entity workflow per action (`pool/<namespace>/<action>`), the
// authoritative list of the action's containers and the controller each is leased to.
// Handlers only record (see ActionPool); the loop below runs provision and remove operations.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { containerName, distinctContainerName } from '../common/names';
import { ACTION_ATTR, HOST_ATTR, KIND_ATTR, NAMESPACE_ATTR } from '../common/search-attributes';
import { ActionPool, CREATE_TURN_MS, DEFAULT_MAX_CREATING } from './action-pool-state';
import { Operations, provisionContainer, removeContainer, type PoolContext } from './container-ops';
import {
  adoptContainerSignal,
  containerFailedSignal,
  controllersChangedSignal,
  demandSignal,
  inventoryQuery,
  repairSignal,
  requestContainersSignal,
  requestContainersUpdate,
  scaleDownSignal,
  withdrawContainersSignal,
  type ActionPoolInput,
} from './messages';
import { scopedNames } from './scope';
import { shouldContinueAsNew } from './history';

/** Marks histories where a pool remembers failures of containers it does not know yet (audit H6). */
const FAILED_BEFORE_ADOPT_PATCH = 'remember-failures-before-adopt';
/** Marks histories where a repair also takes a container whose lease is still completing. */
const REPAIR_WHILE_LEASING_PATCH = 'repair-while-leasing';
/** Marks histories where an empty pool completes after a while instead of living forever (audit M6). */
const IDLE_COMPLETES_PATCH = 'idle-pool-completes';
/** How long an empty pool waits for work before it completes (ActionPoolInput.completeWhenIdleMs). */
export const IDLE_POOL_COMPLETES_MS = 15 * 60_000;
/** Marks histories whose containers get names no other owner can produce (audit M2). */
const DISTINCT_NAMES_PATCH = 'distinct-container-names';
/** Marks histories where a retried request (one id) is taken once. */
const RETRIES_TAKEN_ONCE_PATCH = 'container-request-retries-taken-once';
/**
 * Marks histories where a pool creates a few containers at a time and a router may withdraw
 * requests it has not started (before: every request's containers at once).
 */
const PACED_PATCH = 'paced-creations';
/** Marks histories where a demand signal no longer scales the pool (one scale-up path: requests). */
export const DEMAND_RETIRED_PATCH = 'demand-signal-retired';

export async function actionPoolWorkflow(input: ActionPoolInput): Promise<void> {
  const owner = workflowInfo().workflowId;
  // Audit M2: names that no other owner can produce. Runs recorded before keep the old names.
  const naming = patched(DISTINCT_NAMES_PATCH) ? distinctContainerName : containerName;
  const maxCreating = patched(PACED_PATCH) ? (input.maxCreating ?? DEFAULT_MAX_CREATING) : Infinity;
  const pool = new ActionPool(input, owner, naming, maxCreating);
  const ctx: PoolContext = { scope: input.scope, names: scopedNames(input.scope), owner };
  const ops = new Operations();
  let dirty = true;
  const touch =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A) => {
      fn(...args);
      dirty = true;
    };

  setHandler(
    requestContainersSignal,
    touch((req) => {
      try {
        pool.validateRequest(req);
      } catch (err) {
        // A signal cannot be refused: an invalid request (a router with a stale version) is dropped.
        log.warn('container request ignored', { controllerId: req.controllerId, reason: String(err) });
        return;
      }
      // Its first try got through though its router heard nothing: the containers are coming.
      if (pool.isRetry(req) && patched(RETRIES_TAKEN_ONCE_PATCH)) return;
      pool.request(req, Date.now());
    }),
    { description: 'Cold path: a router asks for containers; they arrive through the lease activity.' },
  );
  setHandler(
    withdrawContainersSignal,
    touch((w) => {
      const withdrawn = pool.withdraw(w);
      if (withdrawn < w.count)
        log.info('containers already on their way', {
          controllerId: w.controllerId,
          count: w.count - withdrawn,
        });
    }),
    { description: "A router's load fell: forget requested containers whose creation has not started." },
  );
  // Only for pools started before the signal replaced it (see requestContainersSignal).
  setHandler(
    requestContainersUpdate,
    touch((req) => pool.request(req)),
    { validator: (req) => pool.validateRequest(req), description: 'Deprecated: use containersRequested.' },
  );
  // Histories written before the demand path was retired replay its decision; new demand is ignored.
  setHandler(
    demandSignal,
    touch((d) => {
      if (!patched(DEMAND_RETIRED_PATCH)) pool.replayDemand(d);
    }),
  );
  setHandler(
    adoptContainerSignal,
    touch((a) => pool.adopt(a)),
  );
  setHandler(
    containerFailedSignal,
    // Histories written before the H6 fix replay without the memory of unknown failures.
    touch(({ containerId, reason }) =>
      pool.failed(containerId, reason, () => patched(FAILED_BEFORE_ADOPT_PATCH)),
    ),
  );
  setHandler(
    scaleDownSignal,
    touch((s) => pool.scaleDown(s)),
  );
  setHandler(
    repairSignal,
    touch(({ names }) => pool.repair(names, () => patched(REPAIR_WHILE_LEASING_PATCH))),
  );
  setHandler(
    controllersChangedSignal,
    touch((change) => pool.controllersChanged(change)),
  );
  setHandler(inventoryQuery, () => ({ workflowId: owner, containers: pool.state.containers }));

  let searchKey = '';
  const publish = (): void => {
    setCurrentDetails(pool.summary());
    const action = pool.action;
    if (!action) return;
    const hosts = [...new Set(pool.live().flatMap((c) => (c.host ? [c.host] : [])))].sort().join(',');
    const key = `${action.kind}|${hosts}`;
    if (key === searchKey) return;
    searchKey = key;
    upsertSearchAttributes([
      { key: NAMESPACE_ATTR, value: input.namespace },
      { key: ACTION_ATTR, value: input.name },
      { key: KIND_ATTR, value: action.kind },
      ...(hosts ? [{ key: HOST_ATTR, value: hosts }] : []),
    ]);
  };

  const ready = (): boolean =>
    dirty ||
    pool.hasWork(Date.now()) ||
    pool.toRemove(ops.isRunning.bind(ops)).length > 0 ||
    shouldContinueAsNew();
  let idle = false;
  /** Workflow time the pool was last found empty; signals that leave it empty do not restart the clock. */
  let emptySince: number | null = null;
  for (;;) {
    // A deleted or unused action's pool empties through scale-down, then completes (audit M6).
    if (pool.isEmpty && ops.idle && patched(IDLE_COMPLETES_PATCH)) {
      emptySince ??= Date.now();
      const left = emptySince + (input.completeWhenIdleMs ?? IDLE_POOL_COMPLETES_MS) - Date.now();
      idle = left <= 0 || !(await condition(ready, left));
      if (idle) break;
    } else {
      emptySince = null;
      await condition(ready);
    }
    dirty = false;
    if (shouldContinueAsNew()) break;
    pool.reclaimStaleLeases();
    const action = pool.action;
    for (const c of pool.startPending(Date.now())) {
      if (!action) break;
      // Paced: wakes the loop when this creation stops holding a turn, should it still be running.
      if (pool.paced) void sleep(CREATE_TURN_MS).then(() => (dirty = true));
      ops.run(c.name, () =>
        provisionContainer(ctx, c, {
          kind: action.kind,
          image: action.image,
          action: action.ref,
          slots: action.slots,
        }).then(() => {
          dirty = true;
        }),
      );
    }
    for (const c of pool.toRemove((name) => ops.isRunning(name))) {
      ops.run(c.name, () =>
        removeContainer(ctx, c).then(() => {
          pool.drop(c);
          dirty = true;
        }),
      );
    }
    publish();
  }
  // Requests and removal marks that arrive meanwhile are part of the state and carry over.
  await condition(() => ops.idle && allHandlersFinished());
  if (idle && pool.isEmpty) return;
  await continueAsNew<typeof actionPoolWorkflow>({ ...input, state: pool.state });
}
