// What the end-to-end tests share for calls that must fail and for state that arrives later
// (activation records are written off the hot path; caches and schedules catch up).

export interface OwError {
  statusCode?: number;
  error?: { error?: string; code?: string; response?: { result?: { error?: string } } };
  message: string;
}

/** The error `promise` rejects with; throws if it resolves. */
export async function failure(promise: Promise<unknown>): Promise<OwError> {
  try {
    await promise;
  } catch (error) {
    return error as OwError;
  }
  throw new Error('expected the call to fail');
}

/** Polls `read` every `everyMs` until `ok` holds; rethrows the last error after `ms`. */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean = () => true,
  ms = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await read();
      if (ok(value)) return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
