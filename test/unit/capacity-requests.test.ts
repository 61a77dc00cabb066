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

function setup(fail = 0) {
  const router = new Router({ maxQueuePerAction: 100 });
  const asked: number[] = [];
  let failures = fail;
  const control: ControlPlane = {
    requestContainers: async (_a, count) => {
      if (failures-- > 0) throw new Error('in-flight update limit');
      asked.push(count);
    },
    stemCellClaimed: async () => undefined,
    containerFailed: async () => undefined,
  };
  return { router, asked, capacity: new CapacityRequests(router, control, SILENT_LOGGER) };
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
