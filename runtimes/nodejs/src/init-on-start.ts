// Init-on-start: a runtime whose action is given by its environment initialises itself before it
// listens, so it needs no /init (the Knative backend: pods that Knative starts must serve /run at
// once). OpenWhisk's convention for Knative (openwhisk-runtime-nodejs, knative support):
//   __OW_ACTION_CODE     the action's code (base64 of the archive when binary)
//   __OW_ACTION_MAIN     the entry point (default "main")
//   __OW_ACTION_BINARY   "true" when the code is an archive
// Gust's addition for code too large for an environment variable (a ConfigMap or Secret mounted
// as a file): GUST_ACTION_CODE_FILE, the file holding exactly what __OW_ACTION_CODE would.
// The code variables are removed from the environment before the action loads.
import { readFileSync } from 'node:fs';

/**
 * Gust's addition for Knative: the pod's name (downward API), which the runtime returns in
 * POD_HEADER on every reply so the controller can read that activation's log from that pod.
 */
export const POD_NAME_ENV = 'GUST_POD_NAME';
export const POD_HEADER = 'x-gust-pod';

export interface InitOnStartMessage {
  value: { main: string; code: string; binary: boolean };
}

/** The /init message the environment describes, or undefined when it names no code (a plain runtime). */
export function initOnStartMessage(env: NodeJS.ProcessEnv = process.env): InitOnStartMessage | undefined {
  const inline = env.__OW_ACTION_CODE;
  const file = env.GUST_ACTION_CODE_FILE;
  delete env.__OW_ACTION_CODE;
  delete env.GUST_ACTION_CODE_FILE;
  const code = file ? readFileSync(file, 'utf8') : inline;
  if (!code) return undefined;
  const main = env.__OW_ACTION_MAIN || 'main';
  const binary = (env.__OW_ACTION_BINARY ?? '').toLowerCase() === 'true';
  return { value: { main, code, binary } };
}
