// Fake time for unit tests whose code waits on timers (flush intervals, retry back-offs, restarts,
// deadlines): jest's fake timers, with promise jobs and nextTick left real so async code runs as it
// does in production. Time moves only when the test moves it, so the tests are deterministic and
// take no wall-clock time. Integration tests against real services keep real time.
//
//   useFakeTimeInEachTest();                        // in a describe block or at the top of a file
//   await advanceUntil(() => worker.running);       // time forward until a condition holds
//   const stored = await advanceUntilSettled(writer.flush());

/** Every test of the enclosing block runs on fake timers; real ones come back after it. */
export function useFakeTimeInEachTest(): void {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());
}

/**
 * Moves fake time forward `stepMs` at a time until `condition` holds; throws once `maxMs` of fake
 * time have passed without it (a test that would otherwise hang).
 */
export async function advanceUntil(condition: () => boolean, stepMs = 1, maxMs = 600_000): Promise<void> {
  for (let waited = 0; !condition(); waited += stepMs) {
    if (waited >= maxMs) throw new Error(`the condition did not hold within ${maxMs} ms of fake time`);
    await jest.advanceTimersByTimeAsync(stepMs);
  }
}

/** Moves fake time forward until `promise` settles, and returns its outcome. */
export async function advanceUntilSettled<T>(promise: Promise<T>, stepMs = 1, maxMs = 600_000): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined); // the caller sees the rejection through the return value
  await jest.advanceTimersByTimeAsync(0);
  await advanceUntil(() => settled, stepMs, maxMs);
  return watched;
}

/**
 * Only the clock is fake (Date, starting now and frozen): for tests over real servers that need
 * distinct timestamps (newest first) without sleeping. Timers and I/O stay real. Undo with
 * `jest.useRealTimers()`.
 */
export function useFakeClock(): { tick(ms?: number): void } {
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  return { tick: (ms = 1) => jest.setSystemTime(Date.now() + ms) };
}
