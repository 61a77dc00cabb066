import { CapacityRequests } from '../../api/invoke/capacity-requests';
import { Router } from '../../api/invoke/router';
import { SILENT_LOGGER } from '../../common/logger';
import type { ControlPlane } from '../../common/contracts';
import type { ActionRef } from '../../common/types';
import { useFakeTimeInEachTest } from './fake-time';
import { testAction, testLease } from './fixtures';

const ref: ActionRef = { namespace: 'guest', name: 'burst', version: '0.0.1' };
const action = (concurrency: number) => testAction(ref, { logs: 0, concurrency });
const lease = (id: string) => testLease(id, ref);
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(fail = 0, failure: () => Error = () => new Error('in-flight update limit')) {
  let now = 0;
  const router = new Router({ maxQueuePerAction: 1000, now: () => now });
  const asked: number[] = [];
  /** Every request sent, answered or not: its id and count. */
  const sent: { id: string | undefined; count: number }[] = [];
  const withdrawn: number[] = [];
  let failures = fail;
  const control: ControlPlane = {
    requestContainers: async (_a, count, _invoker, id) => {
      sent.push({ id, count });
      if (failures-- > 0) throw failure();
      asked.push(count);
    },
    withdrawContainers: async (_a, count) => void withdrawn.push(count),
    stemCellClaimed: async () => undefined,
    containerFailed: async () => undefined,
  };
  const capacity = new CapacityRequests(router, control, SILENT_LOGGER, () => now);
  /** One request arrives as the invoker sends it: a free slot, or the queue and a top-up. */
  const arrive = (concurrency = 1): void => {
    if (router.acquire(ref)) return;
    void router.enqueue(ref);
    capacity.topUp(action(concurrency), ref);
  };
  return { router, asked, sent, withdrawn, capacity, arrive, advance: (ms: number) => void (now += ms) };
}

describe('CapacityRequests', () => {
  it('asks for one container before any run time is known, however long the queue', async () => {
    const { asked, arrive } = setup();
    for (let i = 0; i < 10; i++) arrive();
    await settle();
    expect(asked).toEqual([1]);
  });

  /** One container, busy, whose runs take 100 ms; then 400 arrivals in a second. Returns the container. */
  async function spike({ router, arrive, advance }: ReturnType<typeof setup>) {
    router.lease([lease('c1')]);
    const c1 = router.leased()[0]!;
    c1.observeRun(100);
    router.acquire(ref); // c1 busy
    for (let i = 0; i < 400; i++) {
      arrive();
      advance(2.5);
    }
    await settle();
    return c1;
  }

  it('sizes the pool by Little’s law once run times are known, 32 containers per request at most', async () => {
    const capacity = setup();
    await spike(capacity);
    const { asked } = capacity;
    // 400/s × 100 ms = 40 busy slots, at 70% utilisation 58 containers; c1 is one of them. The
    // first request went out when only two arrivals were counted.
    expect(asked).toEqual([1, 32, 24]);
  });

  it('asks for nothing more when the containers it has serve the load', async () => {
    const { router, asked, arrive, advance } = setup();
    router.lease([lease('c1'), lease('c2')]);
    for (const c of router.leased()) c.observeRun(2);
    for (let i = 0; i < 400; i++) {
      const taken = router.acquire(ref);
      if (taken) router.release(taken);
      advance(2.5);
    }
    // 400/s × 2 ms needs 2 one-slot containers: a queued request waits for one of them.
    router.acquire(ref);
    router.acquire(ref);
    arrive();
    await settle();
    expect(asked).toEqual([]);
  });

  it('does not ask again for containers already on their way, and counts their leases', async () => {
    const { router, asked, arrive } = setup();
    arrive();
    await settle();
    arrive();
    await settle();
    expect(asked).toEqual([1]);
    router.lease([lease('c1')]);
    arrive();
    await settle();
    expect(asked).toEqual([1]);
  });

  it('forgets a demand, and the Action it holds, once its leases are in (audit H4)', async () => {
    const { router, capacity } = setup();
    for (let v = 0; v < 1000; v++) {
      const version: ActionRef = { ...ref, version: `0.0.${v}` };
      void router.enqueue(version);
      capacity.topUp(testAction(version, { logs: 0, concurrency: 1 }), version);
    }
    await settle();
    expect(capacity.size).toBe(1000);
    for (let v = 0; v < 1000; v++) router.lease([testLease(`c${v}`, { ...ref, version: `0.0.${v}` })]);
    expect(capacity.size).toBe(0);
  });

  it('withdraws the containers on their way that a fallen load no longer needs, once', async () => {
    const capacity = setup();
    const { router, asked, withdrawn, advance } = capacity;
    const c1 = await spike(capacity);
    expect(asked).toEqual([1, 32, 24]);
    // The backlog drains (c1 passes from one waiter to the next) and the load falls to 10/s: one
    // container serves it. While requests waited, nothing was withdrawn.
    for (let i = 0; i < 400; i++) c1.observeRun(1);
    expect(router.queued(ref)).toBeGreaterThan(0);
    while (router.queued(ref) > 0) {
      router.release(c1);
    }
    await settle();
    expect(withdrawn).toEqual([]);
    router.release(c1);
    for (let i = 0; i < 20; i++) {
      const taken = router.acquire(ref);
      if (taken) router.release(taken);
      advance(100);
    }
    expect(withdrawn).toEqual([]);
    router.lease([lease('c2')]);
    await settle();
    // 57 were asked for; c2 is one of them; c1 and c2 serve the load: the other 56 are withdrawn.
    expect(withdrawn).toEqual([56]);
    router.lease([lease('c3')]); // started before the withdrawal reached the pool: it arrives anyway
    await settle();
    expect(withdrawn).toEqual([56]);
    expect(asked).toEqual([1, 32, 24]);
  });

  it('forgets what was on its way when a request gives up', async () => {
    const { asked, capacity, arrive } = setup();
    arrive();
    await settle();
    capacity.gaveUp(ref);
    capacity.topUp(action(1), ref);
    await settle();
    expect(asked).toEqual([1, 1]);
  });
});

describe('CapacityRequests on fake time (its retries wait on timers)', () => {
  useFakeTimeInEachTest();

  it('retries a failed request instead of failing the queue', async () => {
    const { router, asked, arrive } = setup(2);
    arrive();
    await jest.advanceTimersByTimeAsync(450);
    expect(asked).toEqual([1]);
    expect(router.queued(ref)).toBe(1);
  });

  it('retries a request as the same request (its id and count), and sends the next one under a new id', async () => {
    const { router, sent, arrive } = setup(2);
    arrive();
    await jest.advanceTimersByTimeAsync(450);
    // Three tries of one request: the pool takes whichever reaches it first, once.
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((r) => r.id)).size).toBe(1);
    expect(sent.every((r) => r.count === 1 && typeof r.id === 'string')).toBe(true);
    router.lease([lease('c1')]);
    router.leased()[0]!.observeRun(100);
    for (let i = 0; i < 50; i++) arrive();
    await jest.advanceTimersByTimeAsync(10);
    // The requests after the answered one are new requests, each under an id of its own.
    const ids = sent.map((r) => r.id);
    expect(ids.length).toBeGreaterThan(3);
    expect(new Set(ids).size).toBe(ids.length - 2);
  });

  it('drops an unanswered request once nothing needs it any more', async () => {
    const { router, sent, capacity } = setup(1);
    const waiting = router.enqueue(ref)!;
    capacity.topUp(action(1), ref);
    await jest.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    // A container arrives before the retry (the first try got through after all): nothing is sent again.
    router.lease([lease('c1')]);
    await expect(waiting).resolves.toMatchObject({ id: 'c1' });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(1);
  });

  it('fails the queue at once and refuses cold starts while the control path is unavailable (audit M3)', async () => {
    // gRPC UNAVAILABLE, as the Temporal client reports a server that is down.
    const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 });
    const { router, asked, capacity, advance } = setup(1, unavailable);
    expect(capacity.available()).toBe(true);
    const waiting = router.enqueue(ref)!;
    capacity.topUp(action(1), ref);
    await expect(waiting).rejects.toThrow(/provisioning service \(Temporal\) does not answer/);
    expect(router.queued(ref)).toBe(0);
    expect(capacity.available()).toBe(false); // new cold starts: 503 at once
    advance(2_000);
    expect(capacity.available()).toBe(true); // one probe gets through
    expect(capacity.available()).toBe(false);
    void router.enqueue(ref);
    capacity.topUp(action(1), ref);
    await jest.advanceTimersByTimeAsync(300); // past the first retry's back-off
    expect(asked).toEqual([1]); // the probe's request was accepted: the breaker closes
    expect(capacity.available()).toBe(true);
  });
});
