// The per-container secret (Gust's defence in depth against calls from anything but the
// controller). Gust generates it when it creates the container and hands it to the runtime as a
// file (read, then deleted, before any action code loads) or, for the process backend, as an
// environment variable (removed from process.env at once). Either way it never reaches the
// action's environment. A runtime started without one (OpenWhisk's own tests, a standalone run)
// accepts every call.
import { readFileSync, unlinkSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';

export const SECRET_HEADER = 'x-gust-runtime-secret';

/** Reads and forgets the secret: `GUST_RUNTIME_SECRET_FILE` (deleted) or `GUST_RUNTIME_SECRET`. */
export function takeRuntimeSecret(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const file = env.GUST_RUNTIME_SECRET_FILE;
  const inline = env.GUST_RUNTIME_SECRET;
  delete env.GUST_RUNTIME_SECRET_FILE;
  delete env.GUST_RUNTIME_SECRET;
  let secret = inline;
  if (file) {
    secret = readFileSync(file, 'utf8').trim();
    unlinkSync(file);
  }
  return secret ? Buffer.from(secret) : undefined;
}

/** True when no secret is set, or the request carries exactly it. */
export function secretMatches(expected: Buffer | undefined, header: string | string[] | undefined): boolean {
  if (expected === undefined) return true;
  if (typeof header !== 'string') return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
