// Runtime secrets Gust derives instead of keeping (the per-container secret every /init and /run
// carries, audit C1), for backends whose runtimes take theirs from their environment: a Mesos task
// (named by its task id) and a Knative Service's pods (by the Service's name). An HMAC of the name
// under the installation's key (GUST_RUNTIME_SECRET_KEY): the provisioner that launches the
// runtime and every controller that calls it derive the same secret, so it is kept nowhere, not in
// a workflow's history, not in a store. Without a configured key, a process uses one of its own,
// which serves a one-process Gust (npm start, the tests); production refuses to start without one
// (common/config.ts).
import { createHmac, randomBytes } from 'node:crypto';

const PROCESS_KEY = randomBytes(32).toString('base64url');

export function derivedRuntimeSecret(key: string, name: string): string {
  return createHmac('sha256', key || PROCESS_KEY)
    .update(name)
    .digest('base64url');
}

/** The environment variable the runtime takes its secret from (runtimes/nodejs/src/runtime-secret.ts). */
export const RUNTIME_SECRET_ENV = 'GUST_RUNTIME_SECRET';
