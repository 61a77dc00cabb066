// A steady closed-loop load for the fault tests: `concurrency` callers, each calling `call` again
// as soon as the last call ended, until stopped. Errors are kept (message), not thrown.
export interface LoadOutcomes {
  ok: number;
  errors: string[];
}

export function steadyLoad(
  call: () => Promise<unknown>,
  concurrency: number,
): { outcomes(): LoadOutcomes; stop(): Promise<LoadOutcomes> } {
  const outcomes: LoadOutcomes = { ok: 0, errors: [] };
  let stopped = false;
  const caller = async (): Promise<void> => {
    while (!stopped) {
      try {
        await call();
        outcomes.ok += 1;
      } catch (err) {
        if (!stopped) outcomes.errors.push((err as Error).message);
      }
    }
  };
  const callers = Array.from({ length: concurrency }, caller);
  return {
    outcomes: () => outcomes,
    async stop() {
      stopped = true;
      await Promise.all(callers);
      return outcomes;
    },
  };
}
