import { Router } from '../../api/invoke/router';
import type { ActionRef } from '../../common/types';
import { testLease as lease } from './fixtures';

const hello: ActionRef = { namespace: 'guest', name: 'hello', version: '0.0.1' };
const helloV2: ActionRef = { ...hello, version: '0.0.2' };

function makeRouter(maxQueuePerAction = 10) {
  let clock = 1000;
  const router = new Router({ maxQueuePerAction, now: () => clock });
  return { router, tick: (ms: number) => (clock += ms) };
}

describe('Router', () => {
  it('returns undefined when an action has no container', () => {
    const { router } = makeRouter();
    expect(router.acquire(hello)).toBeUndefined();
  });

  it('takes a free slot and refuses a second one on a single-slot container', () => {
    const { router } = makeRouter();
    router.lease([lease('c1', hello)]);
    expect(router.acquire(hello)?.id).toBe('c1');
    expect(router.acquire(hello)).toBeUndefined();
  });

  it('prefers the most recently used container when loads are equal', () => {
    const { router, tick } = makeRouter();
    router.lease([lease('old', hello), lease('recent', hello)]);
    tick(10);
    router.release(router.acquire(hello)!);
    tick(10);
    const recent = router.acquire(hello)!;
    router.release(recent);
    expect(router.acquire(hello)?.id).toBe(recent.id);
  });

  it('picks the least loaded container with a free slot', () => {
    const { router } = makeRouter();
    router.lease([lease('c1', hello, 3), lease('c2', hello, 3)]);
    const picks = [
      router.acquire(hello),
      router.acquire(hello),
      router.acquire(hello),
      router.acquire(hello),
    ];
    expect(picks.map((c) => c?.id)).toEqual(['c1', 'c2', 'c1', 'c2']);
    expect(router.usage().map((u) => u.inFlight)).toEqual([2, 2]);
  });

  it('keeps action versions apart', () => {
    const { router } = makeRouter();
    router.lease([lease('c1', hello)]);
    expect(router.acquire(helloV2)).toBeUndefined();
    expect(router.acquire(hello)?.id).toBe('c1');
  });

  it('hands a released slot to the oldest queued request first', async () => {
    const { router } = makeRouter();
    router.lease([lease('c1', hello)]);
    const first = router.acquire(hello)!;
    const order: string[] = [];
    const a = router.enqueue(hello)!.then((c) => order.push(`a:${c.id}`));
    const b = router.enqueue(hello)!.then((c) => order.push(`b:${c.id}`));
    expect(router.queued(hello)).toBe(2);
    router.release(first);
    await a;
    expect(order).toEqual(['a:c1']);
    router.release(first);
    await b;
    expect(order).toEqual(['a:c1', 'b:c1']);
  });

  it('serves queued requests from a container leased later', async () => {
    const { router } = makeRouter();
    const waiting = router.enqueue(hello)!;
    router.lease([lease('c9', hello)]);
    await expect(waiting).resolves.toMatchObject({ id: 'c9', inFlight: 1 });
  });

  it('refuses a request past the queue bound without queueing it', () => {
    const { router } = makeRouter(1);
    void router.enqueue(hello);
    expect(router.enqueue(hello)).toBeUndefined();
    expect(router.queued(hello)).toBe(1);
  });

  it('ignores a lease of a container it already has', () => {
    const { router } = makeRouter();
    router.lease([lease('c1', hello)]);
    router.acquire(hello);
    router.lease([lease('c1', hello)]);
    expect(router.usage()).toHaveLength(1);
    expect(router.usage()[0]!.inFlight).toBe(1);
  });

  it('claims a stem cell of the same kind and memory and binds it to the action', () => {
    const { router } = makeRouter();
    router.lease([lease('s1', null, 1, 'nodejs:20', 256)]);
    expect(router.claimStemCell('nodejs:20', 512, hello, 1)).toBeUndefined();
    const cell = router.claimStemCell('nodejs:20', 256, hello, 4)!;
    expect(cell.id).toBe('s1');
    expect(cell.action).toEqual(hello);
    expect(cell.lease.slots).toBe(4);
    expect(router.claimStemCell('nodejs:20', 256, hello, 1)).toBeUndefined();
    expect(router.acquire(hello)?.id).toBe('s1');
  });

  it('revokes an idle container at once and waits for a busy one to drain', async () => {
    const { router } = makeRouter();
    router.lease([lease('busy', hello)]);
    const busy = router.acquire(hello)!;
    router.lease([lease('idle', hello)]);
    let drained = false;
    const revoked = router.revoke(['idle', 'busy']).then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    expect(router.acquire(hello)).toBeUndefined();
    router.release(busy);
    await revoked;
    expect(drained).toBe(true);
    expect(router.usage()).toEqual([]);
  });

  it('stops routing to a removed container while its work finishes', () => {
    const { router } = makeRouter();
    router.lease([lease('c1', hello, 2)]);
    const c = router.acquire(hello)!;
    router.remove('c1');
    expect(router.acquire(hello)).toBeUndefined();
    expect(router.usage()).toHaveLength(1);
    router.release(c);
    expect(router.usage()).toEqual([]);
  });

  it('reports idle time since the last release, and zero while busy', () => {
    const { router, tick } = makeRouter();
    router.lease([lease('c1', hello), lease('c2', hello, 2)]);
    const c1 = router.acquire(hello)!;
    tick(500);
    router.release(c1);
    tick(250);
    const usage = Object.fromEntries(router.usage().map((u) => [u.containerId, u]));
    expect(usage['c1']).toMatchObject({ inFlight: 0, idleMs: 250 });
    expect(usage['c2']).toMatchObject({ inFlight: 0, idleMs: 750 });
    expect(router.acquire(hello)?.id).toBe('c1');
    expect(router.usage().find((u) => u.containerId === 'c1')).toMatchObject({ inFlight: 1, idleMs: 0 });
  });

  it('drops a queued request whose signal aborts, keeping the others in order', async () => {
    const { router } = makeRouter();
    const abort = new AbortController();
    const dropped = router.enqueue(hello, abort.signal)!;
    const kept = router.enqueue(hello)!;
    abort.abort(new Error('gave up'));
    await expect(dropped).rejects.toThrow('gave up');
    expect(router.queued(hello)).toBe(1);
    router.lease([lease('c1', hello)]);
    await expect(kept).resolves.toMatchObject({ id: 'c1' });
  });

  describe('load', () => {
    /** `runs` arrivals of `ref`, each served and finished in `ms`, `gap` ms apart. */
    function serve(router: Router, tick: (ms: number) => number, runs: number, ms: number, gap = 1) {
      for (let i = 0; i < runs; i++) {
        const container = router.acquire(hello)!;
        container.observeRun(ms);
        router.release(container);
        tick(gap);
      }
    }

    it('knows no run time before the first run ends', () => {
      const { router } = makeRouter();
      router.lease([lease('c1', hello)]);
      router.acquire(hello);
      expect(router.load(hello)).toEqual({
        arrivalsPerSecond: 4,
        meanRunMs: undefined,
        queued: 0,
        containers: 1,
      });
    });

    it("is the mean over the action's recent runs, not of each container's mean", () => {
      // Containers that ran once, slowly (JIT-cold, while others started), then idled: counted per
      // container they would make the mean 40 ms and ask for ten times the containers needed.
      const { router, tick } = makeRouter();
      router.lease(['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => lease(id, hello)));
      for (const container of router.leased()) {
        router.acquire(hello);
        container.observeRun(50);
      }
      for (const container of router.leased()) router.release(container);
      serve(router, tick, 400, 1, 2.5);
      const { meanRunMs, arrivalsPerSecond, containers } = router.load(hello);
      expect(meanRunMs).toBeCloseTo((5 * 50 + 400 * 1) / 405);
      expect(arrivalsPerSecond).toBe(405);
      expect(containers).toBe(5);
    });

    it('follows the run time as it changes, window by window', () => {
      const { router, tick } = makeRouter();
      router.lease([lease('c1', hello)]);
      serve(router, tick, 100, 20, 10);
      expect(router.load(hello).meanRunMs).toBeCloseTo(20);
      serve(router, tick, 200, 2, 10);
      expect(router.load(hello).meanRunMs).toBeCloseTo(2);
    });

    it('keeps the last run time through windows in which no run ended (long runs)', () => {
      const { router, tick } = makeRouter();
      router.lease([lease('c1', hello, 10)]);
      serve(router, tick, 2, 5_000, 1);
      tick(3_000);
      router.acquire(hello); // a new window, no run ended in it
      tick(3_000);
      router.acquire(hello);
      expect(router.load(hello).meanRunMs).toBe(5_000);
    });
  });
});
