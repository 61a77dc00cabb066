// The action pool's state and decisions (workflows/action-pool-state.ts), without Temporal.
import { containerName } from '../../common/names';
import { ActionPool, CREATE_TURN_MS } from '../../workflows/action-pool-state';
import type { ControllersChanged, PoolContainer } from '../../workflows/messages';
import { testLease } from './fixtures';
import { creating, leased, shapes, spec } from './pool-records';

const OWNER = 'pool/guest/a';
const pool = (containers: PoolContainer[] = [], maxContainers?: number): ActionPool => {
  const p = new ActionPool(
    { scope: { prefix: '' }, namespace: 'guest', name: 'a', ...(maxContainers ? { maxContainers } : {}) },
    OWNER,
  );
  p.state.containers.push(...containers);
  return p;
};
const request = (count: number, version = '0.0.1', updated = 1, controllerId = 'c1') => ({
  controllerId,
  action: spec(version, updated),
  count,
});
const remember = (): boolean => true;

describe('validateRequest', () => {
  test.each([
    ['a count of 0', request(0), /count must be an integer from 1 to 32/],
    ['a count above 32', request(33), /count must be an integer/],
    ['no controller', request(1, '0.0.1', 1, ''), /controllerId is required/],
    [
      'another action',
      { ...request(1), action: { ...spec(), ref: { ...spec().ref, name: 'b' } } },
      /not pool\/guest\/b/,
    ],
    [
      'the action for another invoking namespace (audit L9: it has a pool of its own)',
      { ...request(1), action: { ...spec(), ref: { ...spec().ref, invoker: 'alice' } } },
      /not pool\/guest\/\w+~alice/,
    ],
    ['an older version than the pool runs', request(1, '0.0.1', 1), /stale action version 0.0.1/],
    ['the current version', request(1, '0.0.2', 2), null],
  ])('%s', (_, req, error) => {
    const p = pool();
    p.request(request(1, '0.0.2', 2));
    if (error) expect(() => p.validateRequest(req)).toThrow(error);
    else expect(() => p.validateRequest(req)).not.toThrow();
  });
});

describe('a retried request (one id) is taken once', () => {
  test('the retry is known, another id and an id-less request are not', () => {
    const p = pool();
    const first = { ...request(2), requestId: 'r1' };
    expect(p.isRetry(first)).toBe(false);
    p.request(first);
    expect(p.isRetry({ ...request(2), requestId: 'r1' })).toBe(true);
    expect(p.isRetry({ ...request(2), requestId: 'r2' })).toBe(false);
    p.request(request(1));
    expect(p.isRetry(request(1))).toBe(false);
  });

  test('only the latest 64 ids are remembered (the state stays small)', () => {
    const p = pool();
    for (let i = 0; i < 70; i++) p.request({ ...request(1), requestId: `r${i}` });
    expect(p.state.requestIds).toHaveLength(64);
    expect(p.isRetry({ ...request(1), requestId: 'r5' })).toBe(false);
    expect(p.isRetry({ ...request(1), requestId: 'r69' })).toBe(true);
  });
});

describe('requests become named container records', () => {
  test.each([
    ['one request', [2], undefined, 2],
    ['requests add up', [1, 2], undefined, 3],
    ['never past the ceiling', [3, 3], 4, 4],
  ])('%s', (_, counts, max, created) => {
    const p = pool([], max);
    for (const n of counts) p.request(request(n));
    const records = p.startPending(5);
    expect(records.map((c) => c.name)).toEqual(
      Array.from({ length: created }, (_, i) => containerName(OWNER, i)),
    );
    expect(records.every((c) => c.state === 'creating' && c.since === 5 && c.version === '0.0.1')).toBe(true);
    expect(p.state.pending).toEqual([]);
    expect(p.startPending(6)).toEqual([]);
  });

  test('nothing is created before the pool knows its action', () => {
    const p = pool();
    p.state.pending.push({ controllerId: 'c1', count: 1 });
    expect(p.startPending(0)).toEqual([]);
    expect(p.hasWork(0)).toBe(false);
  });
});

describe('a paced pool creates a few at a time, and a router withdraws what has not started', () => {
  const paced = (maxCreating = 2): ActionPool =>
    new ActionPool(
      { scope: { prefix: '' }, namespace: 'guest', name: 'a' },
      OWNER,
      containerName,
      maxCreating,
    );

  test('requests wait while two are being created; a created one (its lease on its way) makes room', () => {
    const p = paced();
    p.request(request(3));
    p.request(request(2, '0.0.1', 1, 'c2'));
    const first = p.startPending(0);
    expect(first.map((c) => c.controllerId)).toEqual(['c1', 'c1']);
    expect(p.state.pending).toMatchObject([
      { controllerId: 'c1', count: 1 },
      { controllerId: 'c2', count: 2 },
    ]);
    expect(p.hasWork(1)).toBe(false); // no room: the workflow loop waits
    expect(p.startPending(1)).toEqual([]);
    first[0]!.info = testLease('x', null).container;
    expect(p.hasWork(1)).toBe(true);
    expect(p.startPending(2).map((c) => c.controllerId)).toEqual(['c1']);
    first[1]!.removal = { revoke: false, reason: 'create failed' };
    expect(p.startPending(3).map((c) => c.controllerId)).toEqual(['c2']);
    expect(p.state.pending).toMatchObject([{ controllerId: 'c2', count: 1 }]);
  });

  test('a creation unfinished after CREATE_TURN_MS (its host gone) no longer holds a turn', () => {
    const p = paced();
    p.request(request(3));
    expect(p.startPending(0)).toHaveLength(2);
    expect(p.hasWork(CREATE_TURN_MS - 1)).toBe(false);
    expect(p.hasWork(CREATE_TURN_MS)).toBe(true);
    expect(p.startPending(CREATE_TURN_MS)).toHaveLength(1);
    expect(p.state.pending).toEqual([]);
  });

  test("a withdrawal takes that router's latest requests not started, and says how many", () => {
    const p = paced();
    p.request(request(4));
    p.request(request(1, '0.0.1', 1, 'c2'));
    p.request(request(3));
    p.startPending(0); // two of c1's first four are being created
    expect(p.withdraw({ controllerId: 'c1', count: 4 })).toBe(4);
    expect(p.state.pending).toMatchObject([
      { controllerId: 'c1', count: 1 },
      { controllerId: 'c2', count: 1 },
    ]);
    expect(p.withdraw({ controllerId: 'c1', count: 5 })).toBe(1); // the two created come anyway
    expect(p.state.pending).toMatchObject([{ controllerId: 'c2', count: 1 }]);
    expect(p.withdraw({ controllerId: 'c3', count: 1 })).toBe(0);
  });

  test("a gone controller's requests not started are forgotten; one newer than the list is kept", () => {
    const p = paced();
    p.request(request(3), 10);
    p.request(request(3, '0.0.1', 1, 'c2'), 10);
    p.request(request(1, '0.0.1', 1, 'c3'), 30); // c3 started after the list below was made
    p.startPending(11); // two of c1's
    p.controllersChanged({ asOf: 20, controllers: [{ controllerId: 'c1', incarnation: 'i1' }] });
    expect(p.state.pending).toMatchObject([
      { controllerId: 'c1', count: 1 },
      { controllerId: 'c3', count: 1 },
    ]);
  });

  test('unpaced (histories before pacing): every request at once', () => {
    const p = pool();
    p.request(request(5));
    expect(p.startPending(0)).toHaveLength(5);
    expect(p.state.pending).toEqual([]);
  });
});

describe('a new version drains the old one', () => {
  test.each([
    ['a newer version marks the old containers', spec('0.0.2', 2), 'replaced by version 0.0.2'],
    ['an older version changes nothing', spec('0.0.0', 0), null],
    ['the same version changes nothing', spec('0.0.1', 1), null],
  ])('%s', (_, next, reason) => {
    const p = pool([leased('x')]);
    p.observe(spec());
    p.observe(next);
    expect(shapes(p.state.containers)).toEqual([['gust_x', 'leased', reason]]);
    expect(p.state.containers[0]!.removal?.revoke ?? true).toBe(true);
  });
});

describe('scale-down', () => {
  const usage = (id: string, idleMs: number, inFlight = 0) => ({
    containerId: id,
    action: spec().ref,
    inFlight,
    idleMs,
  });
  test.each([
    ['idle past the keep-alive: removed', [usage('x', 5000)], 0, ['idle past keep-alive', null]],
    ['idle but in flight: kept', [usage('x', 5000, 1)], 0, [null, null]],
    [
      'the minimum is kept (the most recently used)',
      [usage('x', 5000), usage('y', 4000)],
      1,
      ['idle past keep-alive', null],
    ],
    ['not idle long enough: kept', [usage('x', 500)], 0, [null, null]],
  ])('%s', (_, reports, minContainers, reasons) => {
    const p = pool([leased('x'), leased('y'), creating('gust_z', 'z')]);
    p.scaleDown({ keepAliveMs: 1000, minContainers, usage: [...reports, usage('z', 9000)] });
    expect(p.state.containers.map((c) => c.removal?.reason ?? null)).toEqual([...reasons, null]);
  });
});

describe('controllers that are gone lose their leases', () => {
  const list = (asOf: number, ...ids: string[]): ControllersChanged => ({
    asOf,
    controllers: ids.map((controllerId) => ({ controllerId, incarnation: 'i1' })),
  });
  test.each([
    ['c1 gone: its lease is reclaimed without a revoke', [list(100, 'c2')], 'controller c1 is gone'],
    ['c1 live: kept', [list(100, 'c1')], null],
    ['an older list after a newer one is ignored', [list(100, 'c1'), list(50)], null],
    ['a lease granted after the list is kept', [list(5)], null],
  ])('%s', (_, lists, reason) => {
    const p = pool([leased('x')]);
    for (const l of lists) p.controllersChanged(l);
    expect(p.state.containers[0]!.removal?.reason ?? null).toBe(reason);
    expect(p.state.containers[0]!.removal?.revoke ?? false).toBe(false);
  });
});

describe('removal', () => {
  test('marked containers are removed once their step ends, then dropped', () => {
    const p = pool([
      leased('x', { removal: { revoke: true, reason: 'r' } }),
      leased('y'),
      creating('gust_z'),
    ]);
    expect(p.toRemove((name) => name === 'gust_x')).toEqual([]);
    const [x] = p.toRemove(() => false);
    expect(x!.name).toBe('gust_x');
    expect(p.live().map((c) => c.name)).toEqual(['gust_y', 'gust_z']);
    p.drop(x!);
    expect(p.state.containers.map((c) => c.name)).toEqual(['gust_y', 'gust_z']);
    expect(p.summary()).toBe('1 leased, 1 creating, 0 removing');
  });
});

describe('demand signals of old histories (retired, replayed only)', () => {
  const demand = (queued: number, capacity: number, version = '0.0.1', updated = 1) => ({
    controllerId: 'c1',
    queued,
    capacity,
    inFlight: 0,
    action: spec(version, updated),
  });
  test.each([
    ['queued beyond capacity adds containers', demand(3, 1), [], 2],
    ['covered by capacity adds none', demand(1, 1), [], 0],
    ['containers being created count', demand(3, 1), [creating('gust_c')], 1],
    ['an older version is ignored', demand(3, 0, '0.0.0', 0), [], 0],
  ])('%s', (_, d, records, added) => {
    const p = pool(records);
    p.observe(spec());
    p.replayDemand(d);
    expect(p.state.pending.reduce((n, r) => n + r.count, 0)).toBe(added);
  });
});

describe('a failure reported before the stem cell is handed over (audit H6)', () => {
  test.each([
    ['remembered, then the hand-over removes it', remember, 'failed before it was handed over'],
    ['not remembered (histories before the fix): it stays', () => false, null],
  ])('%s', (_, rememberUnknown, reason) => {
    const p = pool();
    p.failed('c-1', 'init failed', rememberUnknown);
    p.adopt({ action: spec(), container: leased('c-1', { version: null }) });
    const [adopted] = p.state.containers;
    expect(adopted!.removal?.reason ?? null).toBe(reason);
    expect(p.state.failedBeforeAdopt ?? []).toEqual([]);
  });

  test('a failure of a known container marks it and remembers nothing', () => {
    const p = pool();
    p.adopt({ action: spec(), container: leased('c-2') });
    let asked = false;
    p.failed('c-2', 'exited', () => (asked = true));
    expect(p.state.containers[0]!.removal).toEqual({ revoke: false, reason: 'failed: exited' });
    expect(asked).toBe(false);
    expect(p.state.failedBeforeAdopt).toBeUndefined();
  });

  test('other cells are adopted untouched, and the memory is bounded', () => {
    const p = pool();
    for (let i = 0; i < 40; i++) p.failed(`gone-${i}`, 'init failed', remember);
    expect(p.state.failedBeforeAdopt).toHaveLength(32);
    expect(p.state.failedBeforeAdopt![0]).toBe('gone-8');
    p.adopt({ action: spec(), container: leased('c-3') });
    expect(p.state.containers[0]!.removal).toBeNull();
  });

  test('a cell of an older version is adopted for draining; one already known is not adopted twice', () => {
    const p = pool();
    p.observe(spec('0.0.2', 2));
    p.adopt({ action: spec(), container: leased('c-4') });
    p.adopt({ action: spec(), container: leased('c-4') });
    expect(shapes(p.state.containers)).toEqual([['gust_c-4', 'leased', 'adopted an old version']]);
  });
});

describe('repair of a container that died (audit M8)', () => {
  test.each<[string, PoolContainer, () => boolean, boolean]>([
    ['leased: removed and replaced', leased('c-9'), () => false, true],
    ['lease on its way, with the patch: removed and replaced', creating('gust_c-9', 'c-9'), () => true, true],
    ['lease on its way, history from before: left alone', creating('gust_c-9', 'c-9'), () => false, false],
    ['not created yet: left alone', creating('gust_c-9'), () => true, false],
  ])('%s', (_, container, includeLeasing, repaired) => {
    const p = pool([container]);
    p.repair([container.name], includeLeasing);
    expect(p.state.containers[0]!.removal !== null).toBe(repaired);
    expect(p.state.pending).toEqual(repaired ? [{ controllerId: 'c1', count: 1 }] : []);
  });

  test('the patch is asked only about containers whose lease is on its way (it records a marker)', () => {
    const p = pool([leased('a'), creating('gust_b'), creating('gust_c', 'c')]);
    let asked = 0;
    p.repair(['gust_a', 'gust_b', 'gust_c'], () => (asked++, false));
    expect(asked).toBe(1);
  });
});

describe('an empty pool may complete (audit M6)', () => {
  test.each<[string, (p: ActionPool) => void, boolean]>([
    ['new', () => undefined, true],
    ['a request waits', (p) => p.request(request(1)), false],
    [
      'a container is being removed',
      (p) => p.state.containers.push(leased('x', { removal: { revoke: true, reason: 'r' } })),
      false,
    ],
    ['a failure waits for its hand-over', (p) => p.failed('c-1', 'init failed', remember), false],
    [
      'its last container dropped',
      (p) => {
        p.state.containers.push(leased('x'));
        p.drop(p.state.containers[0]!);
      },
      true,
    ],
  ])('%s', (_, act, empty) => {
    const p = pool();
    act(p);
    expect(p.isEmpty).toBe(empty);
  });
});
