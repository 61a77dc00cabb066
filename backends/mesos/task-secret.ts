// A Mesos task's runtime secret (the per-container secret every /init and /run carries, audit C1):
// an HMAC of its task id under the installation's key (GUST_MESOS_SECRET_KEY). The provisioner that
// launches a task and every controller that calls it derive the same secret, so it is kept
// nowhere: not in the framework workflow's history, not in a store. Without a configured key, a
// process uses one of its own, which serves a single-process Gust (npm start, the tests);
// production refuses to start without one (common/config.ts).
import { createHmac, randomBytes } from 'node:crypto';

const PROCESS_KEY = randomBytes(32).toString('base64url');

export function taskSecret(key: string, taskId: string): string {
  return createHmac('sha256', key || PROCESS_KEY)
    .update(taskId)
    .digest('base64url');
}

/** The environment variable the runtime takes its secret from (runtimes/nodejs/src/runtime-secret.ts). */
export const TASK_SECRET_ENV = 'GUST_RUNTIME_SECRET';
