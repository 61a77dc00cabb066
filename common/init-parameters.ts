// Parameters annotated `init: true` (OpenWhisk's Parameter.init): passed to /init as environment
// variables, not to /run (ContainerProxy.partitionArguments). Pure: the controller and the
// backends that initialise a runtime from its environment (knative) both use it.
import type { KeyValue } from './types';

/** An environment value as OpenWhisk stringifies it: strings as they are, null as "", else JSON. */
export function initEnvValue(value: unknown): string {
  return typeof value === 'string' ? value : value === null ? '' : JSON.stringify(value);
}

/**
 * Splits `args` into /run's value and /init's environment: the keys of the `init: true` entries of
 * `parameters` (the package's and the action's, merged) go to the environment.
 */
export function partitionInitArguments(
  args: Record<string, unknown>,
  parameters: readonly KeyValue[],
): { run: Record<string, unknown>; initEnv: Record<string, string> } {
  const initKeys = new Set(parameters.filter((entry) => entry.init === true).map((entry) => entry.key));
  if (initKeys.size === 0) return { run: args, initEnv: {} };
  const run: Record<string, unknown> = {};
  const initEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(args)) {
    if (initKeys.has(key)) initEnv[key] = initEnvValue(value);
    else run[key] = value;
  }
  return { run, initEnv };
}
