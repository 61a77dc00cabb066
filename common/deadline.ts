// A bound on how long Gust waits for an answer from another process (Temporal, mostly).

/** Settles like `promise`, or rejects with "no answer within <ms> ms" once `ms` have passed. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
