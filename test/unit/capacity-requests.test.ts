import { CapacityRequests } from '../../api/invoke/capacity-requests';
import { Router } from '../../api/invoke/router';
import { SILENT_LOGGER } from '../../common/logger';
import type { ControlPlane } from '../../common/contracts';
import type { ActionRef } from '../../common/types';
import { testAction, testLease } from './fixtures';

const ref: ActionRef = { namespace: 'guest', name: 'burst', version: '0.0.1' };
const action = (concurrency: number) => testAction(ref, { logs: 0, concurrency });
const lease = (id: string) => testLease(id, ref);
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(fail = 0, failure: () => Error = () => new Error('in-flight update limit')) {
  const router = new Router({ maxQueuePerAction: 100 });
  const asked: number[] = [];
  let failures = fail;
  let now = 0;
  const control: ControlPlane = {
    requestContainers: async (_a, count) => {
      if (failures-- > 0) throw failure();
      asked.push(count);
    },
    stemCellClaimed: async () => undefined,
    containerFailed: async () => undefined,
  };
  const capacity = new CapacityRequests(router, control, SILENT_LOGGER, () => now);
  return { router, asked, capacity, advance: (ms: number) => (now += ms) };
}

describe('CapacityRequests', () => {
  it('sends one request at a time and adds up the demand that arrived meanwhile', async () => {
    const { router, asked, capacity } = setup();
    for (let i = 0; i < 10; i++) {
      void router.enqueue(ref);
      capacity.topUp(action(1), ref);
    }
    await settle();
    expect(asked).toEqual([1, 9]);
  });

  it('asks for one container per `concurrency` queued requests', async () => {
    const { router, asked, capacity } = setup();
    for (let i = 0; i < 10; i++) void router.enqueue(ref);
    capacity.topUp(action(4), ref);
    await settle();
    expect(asked).toEqual([3]);
  });

  it('does not ask again for containers already on their way, and counts their leases as arrivals', async () => {
    const { router, asked, capacity } = setup();
    void router.enqueue(ref);
    capacity.topUp(action(1), ref);
    await settle();
    void router.enqueue(ref);
    capacity.topUp(action(1), ref);
    await settle();
    expect(asked).toEqual([1, 1]);
    router.lease([lease('c1'), lease('c2')]);
    void router.enqueue(ref);
    capacity.topUp(action(1), ref);
    await settle();
    expect(asked).toEqual([1, 1, 1]);
  });

  it('retries a failed request instead of failing the queue', async () => {
    const { router, asked, capacity } = setup(2);
    void router.enqueue(ref);
    capacity.topUp(action(1), ref);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(asked).toEqual([1]);
    expect(router.queued(ref)).toBe(1);
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
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the first retry's back-off
    expect(asked).toEqual([1]); // the probe's request was accepted: the breaker closes
    expect(capacity.available()).toBe(true);
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

  it('forgets what was on its way when a request gives up', async () => {
    const { router, asked, capacity } = setup();
    void router.enqueue(ref);
    capacity.topUp(action(1), ref);
    await settle();
    capacity.gaveUp(ref);
    capacity.topUp(action(1), ref);
    await settle();
    expect(asked).toEqual([1, 1]);
  });
});
