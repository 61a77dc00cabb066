// The stem-cell pool of one (runtime kind, memory): keeps `perController` started, un-initialised
// containers leased to every live controller, replenishes after a claim, and hands a claimed cell
// over to its action's pool (which owns it from then on).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { containerName } from '../common/names';
import { clusterActivities } from './activities';
import {
  isLeaseStale,
  Operations,
  provisionContainer,
  removeContainer,
  type PoolContext,
} from './container-ops';
import {
  containerFailedSignal,
  controllersChangedSignal,
  inventoryQuery,
  repairSignal,
  setStemCellTargetSignal,
  stemCellClaimedSignal,
  type AdoptContainerInput,
  type ControllersChanged,
  type PoolContainer,
  type StemCellClaimedInput,
  type StemCellPoolInput,
  type StemCellPoolState,
} from './messages';
import { scopedNames } from './scope';
import { shouldContinueAsNew } from './history';

interface HandOver extends AdoptContainerInput {
  started: boolean;
}

export async function stemCellPoolWorkflow(input: StemCellPoolInput): Promise<void> {
  const owner = workflowInfo().workflowId;
  const ctx: PoolContext = { scope: input.scope, names: scopedNames(input.scope), owner };
  const state: StemCellPoolState = input.state ?? { nextSeq: 0, cells: [], controllers: null, handOvers: [] };
  const handOvers: HandOver[] = state.handOvers.map((h) => ({ ...h, started: false }));
  let perController = input.perController;
  const ops = new Operations();
  let dirty = true;

  const live = (): PoolContainer[] => state.cells.filter((c) => !c.removal && c.state !== 'removing');
  const onControllers = (change: ControllersChanged): void => {
    if (state.controllers && change.asOf < state.controllers.asOf) return;
    state.controllers = change;
    for (const c of live())
      if (isLeaseStale(c, change))
        c.removal = { revoke: false, reason: `controller ${c.controllerId} is gone` };
  };

  setHandler(controllersChangedSignal, (change) => {
    onControllers(change);
    dirty = true;
  });
  // A router may claim a cell the moment its lease arrives, before this workflow has seen the lease
  // activity complete: such a claim waits here until the cell is leased.
  let claims: StemCellClaimedInput[] = [];
  const takeClaims = (): void => {
    claims = claims.filter((claim) => {
      const cell = state.cells.find((c) => c.info?.id === claim.containerId);
      if (!cell) {
        log.warn('claim of an unknown stem cell', {
          containerId: claim.containerId,
          controllerId: claim.controllerId,
        });
        return false;
      }
      if (cell.state !== 'leased') return true;
      state.cells = state.cells.filter((c) => c !== cell);
      handOvers.push({
        action: claim.action,
        container: { ...cell, version: claim.action.ref.version },
        started: false,
      });
      return false;
    });
  };
  setHandler(stemCellClaimedSignal, (claim) => {
    claims.push(claim);
    dirty = true;
  });
  setHandler(containerFailedSignal, ({ containerId, reason }) => {
    const cell = state.cells.find((c) => c.info?.id === containerId);
    if (cell && !cell.removal) cell.removal = { revoke: false, reason: `failed: ${reason}` };
    dirty = true;
  });
  setHandler(repairSignal, ({ names }) => {
    for (const c of live())
      if (names.includes(c.name) && c.state === 'leased')
        c.removal = { revoke: true, reason: 'gone from its host' };
    dirty = true;
  });
  setHandler(setStemCellTargetSignal, ({ perController: n }) => {
    perController = n;
    dirty = true;
  });
  setHandler(inventoryQuery, () => ({
    workflowId: owner,
    containers: [...state.cells, ...handOvers.map((h) => h.container)],
  }));

  if (!state.controllers) {
    const view = await clusterActivities(ctx.names, 'which controllers are live').other.describeCluster(
      input.scope,
    );
    onControllers({ controllers: view.controllers, asOf: view.asOf });
  }

  for (;;) {
    await condition(() => dirty || shouldContinueAsNew());
    dirty = false;
    if (shouldContinueAsNew()) break;
    if (state.controllers) onControllers(state.controllers); // leases completed since the last list
    takeClaims();

    for (const h of handOvers.filter((x) => !x.started)) {
      h.started = true;
      ops.run(`handover:${h.container.name}`, async () => {
        try {
          await clusterActivities(
            ctx.names,
            `hand ${h.container.name} to ${h.action.ref.name}`,
          ).other.handOverStemCell(input.scope, h);
        } catch (err) {
          log.error('hand-over failed; the action pool does not own the cell', {
            name: h.container.name,
            error: String(err),
          });
        }
        handOvers.splice(handOvers.indexOf(h), 1);
      });
    }

    // Replenish: each live controller gets `perController` cells (counting those being created).
    for (const controller of state.controllers?.controllers ?? []) {
      const have = live().filter((c) => c.controllerId === controller.controllerId).length;
      for (let i = have; i < perController; i++) {
        const cell: PoolContainer = {
          name: containerName(owner, state.nextSeq++),
          memoryMB: input.memoryMB,
          host: null,
          version: null,
          state: 'creating',
          info: null,
          controllerId: controller.controllerId,
          incarnation: null,
          since: Date.now(),
          leasedAt: null,
          removal: null,
        };
        state.cells.push(cell);
        ops.run(cell.name, () =>
          provisionContainer(ctx, cell, {
            kind: input.kind,
            image: input.image,
            action: null,
            slots: 1,
          }).then(() => {
            dirty = true;
          }),
        );
      }
      // Shrink to the target when it was lowered.
      for (const extra of live()
        .filter((c) => c.controllerId === controller.controllerId && c.state === 'leased')
        .slice(perController)) {
        extra.removal = { revoke: true, reason: 'above target' };
      }
    }

    for (const c of state.cells.filter(
      (x) => x.removal && x.state !== 'removing' && !ops.isRunning(x.name),
    )) {
      ops.run(c.name, () =>
        removeContainer(ctx, c).then(() => {
          state.cells = state.cells.filter((x) => x !== c);
          dirty = true;
        }),
      );
    }
    const leased = state.cells.filter((c) => c.state === 'leased').length;
    setCurrentDetails(
      `${leased} stem cells leased to ${state.controllers?.controllers.length ?? 0} controllers, target ${perController} each`,
    );
  }
  await condition(() => ops.idle && allHandlersFinished());
  takeClaims();
  const carried = handOvers.map(({ action, container }) => ({ action, container }));
  await continueAsNew<typeof stemCellPoolWorkflow>({
    ...input,
    perController,
    state: { ...state, handOvers: carried },
  });
}
