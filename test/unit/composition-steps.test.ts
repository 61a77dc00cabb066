// One step of a composition (sequence or conductor), awaited the one way both use: recorded,
// refused, or not done within the component's wait (its time limit plus a minute).
import { whiskError } from '../../api/invoke/classify';
import { awaitComponent } from '../../api/compositions/sequence';
import type { CompositionStep } from '../../api/compositions/composition-record';
import type { Completion } from '../../api/invoke/activation-starter';
import { apiError } from '../../api/errors';
import { activationRecord } from '../../api/invoke/activation-record';
import { response } from '../../api/invoke/classify';
import { advanceUntilSettled, useFakeTimeInEachTest } from './fake-time';
import { testAction } from './fixtures';

const action = testAction({ namespace: 'guest', name: 'component', version: '0.0.1' }, { timeout: 100 });

function finished(activationId: string): Completion {
  const request = {
    action,
    params: {},
    activationId,
    transactionId: 'tid',
    namespace: 'guest',
    subject: 'guest',
  };
  const timing = { start: 0, end: 1, waitTime: 0, timeout: false };
  return { activation: activationRecord(request, response('success', { ok: true }), timing) };
}

describe('awaitComponent', () => {
  useFakeTimeInEachTest();

  test('a component that finishes is a step with its record', async () => {
    const steps: CompositionStep[] = [];
    const done = finished('a1');
    const started = { kind: 'started', activationId: 'a1', completion: Promise.resolve(done) } as const;
    const step = await advanceUntilSettled(awaitComponent(steps, started, action, 'during composition'));
    expect(step).toEqual({ done: done.activation });
    expect(steps).toEqual([{ activationId: 'a1', record: done.activation }]);
  });

  test('a refused component ends the composition with its message as a whisk error, and is no step', async () => {
    const steps: CompositionStep[] = [];
    const refused = { kind: 'refused', error: apiError('GUST_ERR_THROTTLE_CONCURRENT', 3, 2) } as const;
    expect(await awaitComponent(steps, refused, action, 'for sequence component')).toEqual({
      end: {
        steps: [],
        response: whiskError('Too many concurrent requests in flight (count: 3, allowed: 2).'),
      },
    });
  });

  test.each([['for sequence component'], ['during composition']])(
    'a component not done within its time limit plus a minute ends the composition (%s)',
    async (where) => {
      const steps: CompositionStep[] = [];
      const never = new Promise<Completion>(() => undefined);
      const waiting = awaitComponent(
        steps,
        { kind: 'started', activationId: 'a2', completion: never },
        action,
        where,
      );
      let ended = false;
      void waiting.then(() => (ended = true));
      await jest.advanceTimersByTimeAsync(60_099);
      expect(ended).toBe(false);
      expect(await advanceUntilSettled(waiting)).toEqual({
        end: {
          steps: [{ activationId: 'a2' }],
          response: whiskError(`Timeout reached when retrieving activation a2 ${where}.`),
        },
      });
    },
  );
});
