// The state and decisions of one stem-cell pool (runtime kind, memory). Handlers call these
// methods; the workflow loop (stem-cell-pool.ts) runs the operations they ask for.
import { containerName } from '../common/names';
import { ContainerInventory, isNewerList } from './container-inventory';
import type { ProvisionOutcome } from './container-ops';
import type {
  AdoptContainerInput,
  ControllersChanged,
  CreatingContainer,
  PoolContainer,
  StemCellClaimedInput,
  StemCellPoolInput,
  StemCellPoolState,
} from './messages';

/** How long an action pool that took a cell is named in the inventory: well past visibility's lag. */
export const HANDED_TO_KEEP_MS = 10 * 60_000;
/**
 * Replenishing after failed provisions waits 1 s, doubling with each failure in a row, up to 2
 * minutes: a missing image or a full cluster is retried, not hammered.
 */
export const PROVISION_RETRY_MS = { initial: 1_000, max: 120_000 };

/** A claimed cell on its way to its action's pool; `started` once its hand-over activity runs. */
export interface HandOver extends AdoptContainerInput {
  started: boolean;
}

export class StemCellPool {
  readonly state: StemCellPoolState;
  readonly cells: ContainerInventory;
  readonly handOvers: HandOver[];
  perController: number;
  /** Claims of cells whose lease has not completed here yet (a router may claim at once). */
  #claims: StemCellClaimedInput[] = [];

  constructor(
    readonly input: StemCellPoolInput,
    readonly owner: string,
  ) {
    this.state = input.state ?? { nextSeq: 0, cells: [], controllers: null, handOvers: [] };
    this.cells = new ContainerInventory(this.state.cells);
    this.handOvers = this.state.handOvers.map((h) => ({ ...h, started: false }));
    this.perController = input.perController;
  }

  controllersChanged(change: ControllersChanged): void {
    if (!isNewerList(this.state.controllers, change)) return;
    this.state.controllers = change;
    this.cells.reclaimStale(change);
  }

  /** Marks leases of controllers that are gone (run again whenever a lease completes). */
  reclaimStaleLeases(): void {
    if (this.state.controllers) this.controllersChanged(this.state.controllers);
  }

  claimed(claim: StemCellClaimedInput): void {
    this.#claims.push(claim);
  }

  /** Leased cells that were claimed leave the pool for a hand-over; returns claims of unknown cells. */
  takeClaims(): StemCellClaimedInput[] {
    const unknown: StemCellClaimedInput[] = [];
    this.#claims = this.#claims.filter((claim) => {
      const cell = this.cells.byId(claim.containerId);
      if (!cell) {
        unknown.push(claim);
        return false;
      }
      if (cell.state !== 'leased') return true;
      this.cells.drop(cell);
      this.handOvers.push({
        action: claim.action,
        container: { ...cell, version: claim.action.ref.version },
        started: false,
      });
      return false;
    });
    return unknown;
  }

  /** Hand-overs whose activity has not started; marked started. */
  startHandOvers(): HandOver[] {
    const waiting = this.handOvers.filter((h) => !h.started);
    for (const h of waiting) h.started = true;
    return waiting;
  }

  /** The hand-over ended: `to` is the action pool that owns the cell now (none: it failed). */
  handedOver(h: HandOver, to: string | undefined, now: number): void {
    this.handOvers.splice(this.handOvers.indexOf(h), 1);
    const kept = this.#recentHandOvers(now).filter((t) => t.workflowId !== to);
    this.state.handedTo = to === undefined ? kept : [...kept, { workflowId: to, at: now }];
  }

  /** The action pools that took cells in the last HANDED_TO_KEEP_MS. */
  handedTo(now: number): string[] {
    return this.#recentHandOvers(now).map((t) => t.workflowId);
  }

  #recentHandOvers(now: number): NonNullable<StemCellPoolState['handedTo']> {
    return (this.state.handedTo ?? []).filter((t) => now - t.at < HANDED_TO_KEEP_MS);
  }

  failed(containerId: string, reason: string): void {
    this.cells.markFailed(containerId, reason);
  }

  /** Cells gone from their host: removed; replenishing replaces them. */
  repair(names: string[]): void {
    this.cells.markGone(names, () => false);
  }

  /**
   * A provision ended: a lease resets the failures in a row, a failure backs replenishing off, and
   * a provision the pool withdrew itself (the target lowered, the controller gone) is neither.
   */
  provisioned(outcome: ProvisionOutcome, now: number): void {
    if (outcome === 'withdrawn') return;
    if (outcome === 'leased') {
      delete this.state.provisionFailures;
      return;
    }
    const count = (this.state.provisionFailures?.count ?? 0) + 1;
    const delay = Math.min(PROVISION_RETRY_MS.max, PROVISION_RETRY_MS.initial * 2 ** (count - 1));
    this.state.provisionFailures = { count, retryAt: now + delay };
  }

  /** Milliseconds until replenishing may create again after failures; undefined when it may now. */
  retryIn(now: number): number | undefined {
    const retryAt = this.state.provisionFailures?.retryAt;
    return retryAt !== undefined && retryAt > now ? retryAt - now : undefined;
  }

  /**
   * Each live controller gets `perController` cells (counting those being created): the new
   * records, to provision; none while backing off after failures. Leased cells above a lowered
   * target are marked for removal.
   */
  replenish(now: number): CreatingContainer[] {
    const created: CreatingContainer[] = [];
    const backingOff = this.retryIn(now) !== undefined;
    for (const { controllerId } of this.state.controllers?.controllers ?? []) {
      const have = this.cells.live().filter((c) => c.controllerId === controllerId).length;
      for (let i = have; i < this.perController && !backingOff; i++) {
        created.push(
          this.cells.add({
            name: containerName(this.owner, this.state.nextSeq++),
            memoryMB: this.input.memoryMB,
            version: null,
            controllerId,
            since: now,
          }),
        );
      }
      for (const extra of this.cells
        .live()
        .filter((c) => c.controllerId === controllerId && c.state === 'leased')
        .slice(this.perController)) {
        extra.removal = { revoke: true, reason: 'above target' };
      }
    }
    return created;
  }

  /** What the inventory query shows: the cells and those being handed over. */
  inventory(): PoolContainer[] {
    return [...this.state.cells, ...this.handOvers.map((h) => h.container)];
  }

  /** The continue-as-new input: hand-overs under way start again in the next run. */
  carryOver(): StemCellPoolInput {
    const handOvers = this.handOvers.map(({ action, container }) => ({ action, container }));
    return { ...this.input, perController: this.perController, state: { ...this.state, handOvers } };
  }

  summary(): string {
    const failures = this.state.provisionFailures;
    return (
      `${this.cells.count('leased')} stem cells leased to ${this.state.controllers?.controllers.length ?? 0} controllers, target ${this.perController} each` +
      (failures ? `; ${failures.count} provisions failed in a row` : '')
    );
  }
}
