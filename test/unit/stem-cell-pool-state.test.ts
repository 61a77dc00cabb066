// The stem-cell pool's state and decisions (workflows/stem-cell-pool-state.ts), without Temporal.
import { containerName } from '../../common/names';
import type { ControllersChanged, PoolContainer } from '../../workflows/messages';
import { HANDED_TO_KEEP_MS, PROVISION_RETRY_MS, StemCellPool } from '../../workflows/stem-cell-pool-state';
import { creating, leased, shapes, spec } from './pool-records';

const OWNER = 'stemcells/nodejs:20/256mb';
const list = (asOf: number, ...ids: string[]): ControllersChanged => ({
  asOf,
  controllers: ids.map((controllerId) => ({ controllerId, incarnation: 'i1' })),
});
const pool = (cells: PoolContainer[] = [], perController = 2, controllers = list(0, 'c1')): StemCellPool => {
  const p = new StemCellPool(
    { scope: { prefix: '' }, kind: 'nodejs:20', memoryMB: 256, perController },
    OWNER,
  );
  p.state.cells.push(...cells);
  p.controllersChanged(controllers);
  return p;
};
const cell = (id: string, controllerId = 'c1') => leased(id, { version: null, controllerId });
const claim = (containerId: string) => ({ containerId, controllerId: 'c1', action: spec() });

describe('replenish', () => {
  test.each([
    ['an empty pool gets the target for each controller', [], 2, list(0, 'c1', 'c2'), 4, []],
    ['cells being created count', [creating('gust_a')], 2, list(0, 'c1'), 1, []],
    ['a full pool gets none', [cell('a'), cell('b')], 2, list(0, 'c1'), 0, []],
    [
      'a lowered target removes the extra leased cells',
      [cell('a'), cell('b')],
      1,
      list(0, 'c1'),
      0,
      ['gust_b'],
    ],
    ['no controllers, no cells', [], 2, list(0), 0, []],
  ])('%s', (_, cells, perController, controllers, created, extra) => {
    const p = pool(cells, perController, controllers);
    const made = p.replenish(7);
    expect(made.map((c) => c.name)).toEqual(
      Array.from({ length: created }, (_, i) => containerName(OWNER, i)),
    );
    expect(made.every((c) => c.state === 'creating' && c.version === null && c.since === 7)).toBe(true);
    expect(p.state.cells.filter((c) => c.removal?.reason === 'above target').map((c) => c.name)).toEqual(
      extra,
    );
    expect(p.replenish(8)).toEqual([]);
  });
});

describe('claims and hand-overs', () => {
  test.each([
    ['a leased cell leaves for its action pool', [cell('a')], 'a', [], ['gust_a'], []],
    ['a cell whose lease is on its way waits', [creating('gust_a', 'a')], 'a', ['gust_a'], [], []],
    ['an unknown cell is reported', [cell('a')], 'zz', ['gust_a'], [], ['zz']],
  ])('%s', (_, cells, claimed, left, handedOver, unknown) => {
    const p = pool(cells);
    p.claimed(claim(claimed));
    expect(p.takeClaims().map((c) => c.containerId)).toEqual(unknown);
    expect(p.state.cells.map((c) => c.name)).toEqual(left);
    expect(p.handOvers.map((h) => [h.container.name, h.container.version])).toEqual(
      handedOver.map((name) => [name, '0.0.1']),
    );
  });

  test('a waiting claim is taken once the lease completes', () => {
    const waiting = creating('gust_a', 'a');
    const p = pool([waiting]);
    p.claimed(claim('a'));
    p.takeClaims();
    p.state.cells[0] = cell('a');
    p.takeClaims();
    expect(p.handOvers.map((h) => h.container.name)).toEqual(['gust_a']);
  });

  test('each hand-over starts once, leaves when done, and carries over unstarted', () => {
    const p = pool([cell('a'), cell('b')], 3);
    for (const id of ['a', 'b']) p.claimed(claim(id));
    p.takeClaims();
    const started = p.startHandOvers();
    expect(started.map((h) => h.container.name)).toEqual(['gust_a', 'gust_b']);
    expect(p.startHandOvers()).toEqual([]);
    p.handedOver(started[0]!, 'pool/guest/a', 0);
    expect(p.inventory().map((c) => c.name)).toEqual(['gust_b']);
    p.perController = 1;
    const next = p.carryOver();
    expect(next.perController).toBe(1);
    expect(next.state!.handOvers.map((h) => Object.keys(h).sort())).toEqual([['action', 'container']]);
    expect(new StemCellPool(next, OWNER).startHandOvers().map((h) => h.container.name)).toEqual(['gust_b']);
  });
});

test('the action pools that took cells are named for a while (reconcile asks them: audit L13), a failed hand-over names none', () => {
  const p = pool([cell('a'), cell('b'), cell('c'), cell('d')], 4);
  for (const id of ['a', 'b', 'c', 'd']) p.claimed(claim(id));
  p.takeClaims();
  const [a, b, c, d] = p.startHandOvers();
  p.handedOver(a!, 'pool/guest/x', 1_000);
  p.handedOver(b!, undefined, 2_000);
  p.handedOver(c!, 'pool/guest/y', HANDED_TO_KEEP_MS);
  expect(p.handedTo(HANDED_TO_KEEP_MS)).toEqual(['pool/guest/x', 'pool/guest/y']);
  expect(p.handedTo(HANDED_TO_KEEP_MS + 1_000)).toEqual(['pool/guest/y']);
  // Carried across continue-as-new; the record is pruned at the next hand-over.
  expect(new StemCellPool(p.carryOver(), OWNER).handedTo(HANDED_TO_KEEP_MS)).toEqual([
    'pool/guest/x',
    'pool/guest/y',
  ]);
  p.handedOver(d!, 'pool/guest/y', HANDED_TO_KEEP_MS + 1_000);
  expect(p.state.handedTo).toEqual([{ workflowId: 'pool/guest/y', at: HANDED_TO_KEEP_MS + 1_000 }]);
});

describe('failures, repairs and controllers that are gone', () => {
  test.each([
    [
      'a failed cell is removed without a revoke',
      (p: StemCellPool) => p.failed('a', 'exited'),
      'failed: exited',
      false,
    ],
    [
      'a failure of an unknown cell changes nothing',
      (p: StemCellPool) => p.failed('zz', 'exited'),
      null,
      null,
    ],
    [
      'a leased cell gone from its host is removed',
      (p: StemCellPool) => p.repair(['gust_a']),
      'gone from its host',
      true,
    ],
    [
      'its controller gone: reclaimed',
      (p: StemCellPool) => p.controllersChanged(list(100, 'c2')),
      'controller c1 is gone',
      false,
    ],
    [
      'an older list of controllers is ignored',
      (p: StemCellPool) => p.controllersChanged(list(-1)),
      null,
      null,
    ],
  ])('%s', (_, act, reason, revoke) => {
    const p = pool([cell('a')]);
    act(p);
    expect(shapes(p.state.cells)).toEqual([['gust_a', 'leased', reason]]);
    expect(p.state.cells[0]!.removal?.revoke ?? null).toBe(revoke);
  });

  test('a cell whose lease is on its way is not repaired (replenishing replaces it later)', () => {
    const p = pool([creating('gust_a', 'a')]);
    p.repair(['gust_a']);
    expect(p.state.cells[0]!.removal).toBeNull();
  });

  test('marked cells are removed once their step ends; the summary counts leased cells', () => {
    const p = pool([cell('a'), cell('b', 'c2')], 1, list(0, 'c1', 'c2'));
    p.failed('a', 'exited');
    expect(p.cells.toRemove(() => false).map((c) => c.name)).toEqual(['gust_a']);
    expect(p.summary()).toBe('2 stem cells leased to 2 controllers, target 1 each');
  });
});

describe('failed provisions back replenishing off', () => {
  test('each failure in a row doubles the wait, up to the maximum; nothing is created meanwhile', () => {
    const p = pool([], 1);
    const waits: number[] = [];
    let now = 1_000;
    for (let failure = 1; failure <= 9; failure++) {
      const made = p.replenish(now);
      expect(made).toHaveLength(1);
      p.cells.drop(made[0]!); // the failed cell is removed
      p.provisioned('failed', now);
      const wait = p.retryIn(now)!;
      waits.push(wait);
      expect(p.replenish(now + wait - 1)).toEqual([]);
      now += wait;
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 120, 120].map((s) => s * 1000));
    expect(waits[0]).toBe(PROVISION_RETRY_MS.initial);
    expect(p.summary()).toBe(
      '0 stem cells leased to 1 controllers, target 1 each; 9 provisions failed in a row',
    );
    expect(p.replenish(now)).toHaveLength(1);
  });

  test('a lease ends the back-off, and it carries over continue-as-new', () => {
    const p = pool([], 2);
    p.provisioned('failed', 0);
    p.provisioned('failed', 0);
    expect(p.carryOver().state?.provisionFailures).toEqual({ count: 2, retryAt: 2_000 });
    expect(p.retryIn(500)).toBe(1_500);
    p.provisioned('leased', 600);
    expect(p.retryIn(600)).toBeUndefined();
    expect(p.replenish(600)).toHaveLength(2);
  });

  test('a provision the pool withdrew (target lowered, controller gone) neither counts nor resets', () => {
    const p = pool([], 1);
    p.provisioned('withdrawn', 0);
    expect(p.retryIn(0)).toBeUndefined();
    expect(p.replenish(0)).toHaveLength(1);
    p.provisioned('failed', 10);
    p.provisioned('withdrawn', 20);
    expect(p.carryOver().state?.provisionFailures).toEqual({ count: 1, retryAt: 1_010 });
  });
});
