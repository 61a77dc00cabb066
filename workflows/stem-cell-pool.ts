// The stem-cell pool of one (runtime kind, memory): keeps `perController` started, un-initialised
// containers leased to every live controller, replenishes after a claim, and hands a claimed cell
// over to its action's pool (which owns it from then on).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { clusterActivities } from './activities';
import { Operations, provisionContainer, removeContainer, type PoolContext } from './container-ops';
import {
  containerFailedSignal,
  controllersChangedSignal,
  inventoryQuery,
  repairSignal,
  setStemCellTargetSignal,
  stemCellClaimedSignal,
  type StemCellPoolInput,
} from './messages';
import { scopedNames } from './scope';
import { shouldContinueAsNew } from './history';
import { StemCellPool } from './stem-cell-pool-state';

/** Marks histories where failed provisions back replenishing off (before it, every failure retried at once). */
const PROVISION_BACKOFF_PATCH = 'stem-cells-back-off-failed-provisions';
/** Marks histories where a provision the pool withdrew is no failure (before it, it backed off too). */
const WITHDRAWN_NOT_FAILED_PATCH = 'stem-cells-withdrawn-is-no-failure';

export async function stemCellPoolWorkflow(input: StemCellPoolInput): Promise<void> {
  const owner = workflowInfo().workflowId;
  const ctx: PoolContext = { scope: input.scope, names: scopedNames(input.scope), owner };
  const pool = new StemCellPool(input, owner);
  const ops = new Operations();
  let dirty = true;
  const changed = (): void => {
    dirty = true;
  };

  setHandler(controllersChangedSignal, (change) => {
    pool.controllersChanged(change);
    changed();
  });
  // A router may claim a cell the moment its lease arrives, before this workflow has seen the lease
  // activity complete: such a claim waits in the pool until the cell is leased.
  setHandler(stemCellClaimedSignal, (claim) => {
    pool.claimed(claim);
    changed();
  });
  setHandler(containerFailedSignal, ({ containerId, reason }) => {
    pool.failed(containerId, reason);
    changed();
  });
  setHandler(repairSignal, ({ names }) => {
    pool.repair(names);
    changed();
  });
  setHandler(setStemCellTargetSignal, ({ perController }) => {
    pool.perController = perController;
    changed();
  });
  setHandler(inventoryQuery, () => ({
    workflowId: owner,
    containers: pool.inventory(),
    handedTo: pool.handedTo(Date.now()),
  }));

  const takeClaims = (): void => {
    for (const { containerId, controllerId } of pool.takeClaims())
      log.warn('claim of an unknown stem cell', { containerId, controllerId });
  };

  if (!pool.state.controllers) {
    const view = await clusterActivities(ctx.names, 'which controllers are live').other.describeCluster(
      input.scope,
    );
    pool.controllersChanged({ controllers: view.controllers, asOf: view.asOf });
  }

  const ready = (): boolean => dirty || shouldContinueAsNew();
  for (;;) {
    // Backing off after failed provisions: wake when replenishing may try again.
    const retryIn = pool.retryIn(Date.now());
    await (retryIn === undefined ? condition(ready) : condition(ready, retryIn));
    dirty = false;
    if (shouldContinueAsNew()) break;
    pool.reclaimStaleLeases(); // leases completed since the last list
    takeClaims();

    for (const h of pool.startHandOvers()) {
      ops.run(`handover:${h.container.name}`, async () => {
        let to: string | undefined;
        try {
          await clusterActivities(
            ctx.names,
            `hand ${h.container.name} to ${h.action.ref.name}`,
          ).other.handOverStemCell(input.scope, h);
          to = ctx.names.actionPoolId(h.action.ref);
        } catch (err) {
          log.error('hand-over failed; the action pool does not own the cell', {
            name: h.container.name,
            error: String(err),
          });
        }
        pool.handedOver(h, to, Date.now());
      });
    }
    for (const cell of pool.replenish(Date.now())) {
      ops.run(cell.name, async () => {
        const outcome = await provisionContainer(ctx, cell, {
          kind: input.kind,
          image: input.image,
          action: null,
          slots: 1,
        });
        // Histories from before the back-off replay without it (their failures retried at once),
        // and those from before WITHDRAWN_NOT_FAILED_PATCH count a withdrawn provision as failed.
        if (outcome === 'leased' || patched(PROVISION_BACKOFF_PATCH)) {
          const withdrawnFails = outcome === 'withdrawn' && !patched(WITHDRAWN_NOT_FAILED_PATCH);
          pool.provisioned(withdrawnFails ? 'failed' : outcome, Date.now());
        }
        changed();
      });
    }
    for (const c of pool.cells.toRemove((name) => ops.isRunning(name))) {
      ops.run(c.name, () =>
        removeContainer(ctx, c).then(() => {
          pool.cells.drop(c);
          changed();
        }),
      );
    }
    setCurrentDetails(pool.summary());
  }
  await condition(() => ops.idle && allHandlersFinished());
  takeClaims();
  await continueAsNew<typeof stemCellPoolWorkflow>(pool.carryOver());
}
