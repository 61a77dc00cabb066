// Waiting for an activation without cancelling it: the blocking invoke's wait, and a composition's
// wait for each of its components.
import type { Completion } from './invoke/activation-starter';

/**
 * The completion, or undefined once `ms` has passed (the activation goes on). One promise and one
 * timer, cleared when the completion comes first (no Promise.race: it is on every blocking invoke).
 * The completion never rejects (ActivationStarter's contract).
 */
export function settledWithin(completion: Promise<Completion>, ms: number): Promise<Completion | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, undefined);
    void completion.then((done) => {
      clearTimeout(timer);
      resolve(done);
    });
  });
}
