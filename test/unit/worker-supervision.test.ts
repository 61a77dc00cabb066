// Audit M4: a controller outlives its Temporal worker. A worker that fails is started again after
// a back-off, and a first start that fails (Temporal down) does not stop the controller starting.
import { superviseWorker, type SupervisedWorker } from '../../workers/temporal';
import { advanceUntil, useFakeTimeInEachTest } from './fake-time';

// The back-off between restarts is a timer: fake time moves it.
useFakeTimeInEachTest();

/** A worker whose run() fails with `error`, or runs until shut down. */
function worker(error?: Error): SupervisedWorker & { shutDown: boolean; running: boolean } {
  let release: () => void = () => undefined;
  const w = {
    shutDown: false,
    running: false,
    state: 'RUNNING',
    run: () => {
      w.running = true;
      return error ? Promise.reject(error) : new Promise<void>((resolve) => (release = resolve));
    },
    shutdown() {
      w.shutDown = true;
      w.state = 'STOPPED';
      release();
    },
    getState: () => w.state,
  };
  return w;
}

const retryMs = { first: 5, max: 20 };

test('a worker that fails fatally is started again, and stop ends the last one', async () => {
  const errors: unknown[] = [];
  const healthy = worker();
  const made = [worker(new Error('namespace default not found')), healthy];
  const supervised = await superviseWorker(async () => made.shift()!, {
    onError: (err) => errors.push(err),
    retryMs,
  });
  await advanceUntil(() => healthy.running);
  expect(supervised.restarts).toBe(1);
  expect(errors).toEqual([new Error('namespace default not found')]);
  await supervised.stop();
  expect(healthy.shutDown).toBe(true);
  await expect(supervised.done).resolves.toBeUndefined();
});

test('a first start that fails (Temporal down) is retried in the background', async () => {
  const errors: unknown[] = [];
  let attempts = 0;
  const healthy = worker();
  const supervised = await superviseWorker(
    async () => {
      if (++attempts <= 3) throw new Error('connection refused');
      return healthy;
    },
    { onError: (err) => errors.push(err), retryMs },
  );
  // superviseWorker returned although the server was not there; the retries go on.
  await advanceUntil(() => healthy.running);
  expect(errors).toHaveLength(3);
  await supervised.stop();
  expect(healthy.shutDown).toBe(true);
});
