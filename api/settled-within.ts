// Waiting for an activation without cancelling it: the blocking invoke's wait, and a composition's
// wait for each of its components.
import type { Completion } from './invoke/activation-starter';

/** The completion, or undefined once `ms` has passed (the activation goes on). */
export async function settledWithin(
  completion: Promise<Completion>,
  ms: number,
): Promise<Completion | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([completion, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
