// Audit L2: a namespace's throttles hold across controllers. Each controller enforces the limit
// divided among the live controllers (rounded up, at least 1), counted off the hot path from the
// hosts registry, falling back to 1 when the count is unknown or stale.
import { NamespaceThrottles, perControllerLimit } from '../../api/namespace-throttles';
import { countLiveControllers, LiveControllerCount } from '../../workers/live-controllers';

describe('perControllerLimit', () => {
  it.each([
    { limit: 60, controllers: 1, want: 60 },
    { limit: 60, controllers: 2, want: 30 },
    { limit: 60, controllers: 7, want: 9 },
    { limit: 9, controllers: 2, want: 5 },
    { limit: 1, controllers: 3, want: 1 },
    { limit: 2, controllers: 5, want: 1 },
    { limit: 30, controllers: 0, want: 30 },
  ])(
    'gives each of $controllers controllers $want of a namespace-wide $limit',
    ({ limit, controllers, want }) => {
      expect(perControllerLimit(limit, controllers)).toBe(want);
    },
  );

  it('never lets N controllers admit less than the limit, nor more than N - 1 above it', () => {
    const broken: string[] = [];
    for (let limit = 1; limit <= 200; limit += 1) {
      for (let n = 1; n <= 12; n += 1) {
        const total = n * perControllerLimit(limit, n);
        if (total < limit || total > limit + n - 1) broken.push(`${limit}/${n}: ${total}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('NamespaceThrottles shared among controllers', () => {
  const admitted = (throttles: NamespaceThrottles, namespace: string, tries: number): number => {
    let ok = 0;
    for (let i = 0; i < tries; i += 1) {
      try {
        throttles.admit(namespace);
        ok += 1;
      } catch {
        // 429
      }
    }
    return ok;
  };
  const now = () => 5 * 60_000 + 1_000;

  it('admits its share of the invocations per minute, and says so in the 429', () => {
    const throttles = new NamespaceThrottles(
      { invocationsPerMinute: 9, concurrentInvocations: 100 },
      { now },
    );
    throttles.shareAmong(2);
    expect(throttles.controllers).toBe(2);
    expect(admitted(throttles, 'ns', 20)).toBe(5);
    expect(() => throttles.admit('ns')).toThrow(/allowed: 5\)/);
  });

  it('two controllers in front of one namespace admit its limit in all, not twice it', () => {
    const limits = { invocationsPerMinute: 10, concurrentInvocations: 100 };
    const controllers = [new NamespaceThrottles(limits, { now }), new NamespaceThrottles(limits, { now })];
    for (const c of controllers) c.shareAmong(2);
    expect(controllers.reduce((sum, c) => sum + admitted(c, 'ns', 15), 0)).toBe(10);
  });

  it('shares the concurrent invocations too', () => {
    const throttles = new NamespaceThrottles(
      { invocationsPerMinute: 100, concurrentInvocations: 4 },
      { now },
    );
    throttles.shareAmong(2);
    throttles.started('ns');
    throttles.started('ns');
    expect(() => throttles.admit('ns')).toThrow(/concurrent/i);
    throttles.finished('ns');
    expect(() => throttles.admit('ns')).not.toThrow();
  });

  it('takes a new count for the next request, and back to the whole limit at 1', () => {
    const throttles = new NamespaceThrottles(
      { invocationsPerMinute: 6, concurrentInvocations: 100 },
      { now },
    );
    throttles.shareAmong(3);
    expect(admitted(throttles, 'a', 10)).toBe(2);
    throttles.shareAmong(1);
    expect(admitted(throttles, 'b', 10)).toBe(6);
  });

  it.each([0, -2, Number.NaN])('treats a count of %p as one controller', (count) => {
    const throttles = new NamespaceThrottles(
      { invocationsPerMinute: 4, concurrentInvocations: 100 },
      { now },
    );
    throttles.shareAmong(3);
    throttles.shareAmong(count);
    expect(throttles.controllers).toBe(1);
    expect(admitted(throttles, 'ns', 10)).toBe(4);
  });
});

describe('the live controllers count', () => {
  const view = (...ids: string[]) => ({
    controllers: ids.map((controllerId) => ({ controllerId, incarnation: 'i' })),
  });

  it('counts every controller of the registry once, this one always among them', () => {
    expect(countLiveControllers(view('a', 'b'), 'a')).toBe(2);
    expect(countLiveControllers(view('b'), 'a')).toBe(2);
    expect(countLiveControllers(view(), 'a')).toBe(1);
  });

  it('reports each refresh, keeps the last count through a failure, and falls back to 1 once it is stale', async () => {
    let clock = 0;
    let answer: () => Promise<ReturnType<typeof view>> = async () => view('a', 'b', 'c');
    const told: number[] = [];
    const errors: unknown[] = [];
    const counter = new LiveControllerCount({
      view: () => answer(),
      selfId: 'a',
      staleAfterMs: 30_000,
      onCount: (n) => told.push(n),
      onError: (err) => errors.push(err),
      now: () => clock,
    });
    expect(counter.count).toBe(1);
    expect(await counter.refresh()).toBe(3);

    answer = () => Promise.reject(new Error('no answer within 2000 ms'));
    clock = 20_000;
    expect(await counter.refresh()).toBe(3);
    clock = 30_001;
    expect(await counter.refresh()).toBe(1);

    answer = async () => view('a', 'b');
    clock = 40_000;
    expect(await counter.refresh()).toBe(2);
    expect(told).toEqual([3, 3, 1, 2]);
    expect(errors).toHaveLength(2);
  });

  it('is 1 while the registry was never read', async () => {
    const told: number[] = [];
    const counter = new LiveControllerCount({
      view: () => Promise.reject(new Error('Temporal is down')),
      selfId: 'a',
      staleAfterMs: 30_000,
      onCount: (n) => told.push(n),
    });
    expect(await counter.refresh()).toBe(1);
    expect(told).toEqual([1]);
  });
});
