// Action limits: OpenWhisk's defaults and system bounds (docs/reference/openwhisk-contract.md
// §4.3), with Gust's wider concurrency bound (the router gives containers several slots), and their
// 400 messages.
import type { ActionLimits } from '../common/types';
import { apiError } from './errors';

interface Bound {
  min: number;
  max: number;
  default: number;
}

export const ACTION_LIMITS: Record<keyof ActionLimits, Bound> = {
  timeout: { min: 100, max: 300_000, default: 60_000 },
  memory: { min: 128, max: 512, default: 256 },
  logs: { min: 0, max: 10, default: 10 },
  concurrency: { min: 1, max: 500, default: 1 },
};

export const DEFAULT_LIMITS: ActionLimits = {
  timeout: ACTION_LIMITS.timeout.default,
  memory: ACTION_LIMITS.memory.default,
  logs: ACTION_LIMITS.logs.default,
  concurrency: ACTION_LIMITS.concurrency.default,
};

/** Bytes: exec code, parameters and annotations (OpenWhisk's size checks on PUT). */
export const SIZE_LIMITS = {
  exec: 48 * 1024 * 1024,
  parameters: 1024 * 1024,
  annotations: 1024 * 1024,
  invokePayload: 1024 * 1024,
  requestBody: 50 * 1024 * 1024,
};

// Scala `require` texts (entity/TimeLimit.scala, MemoryLimit.scala, LogLimit.scala, ConcurrencyLimit.scala).
const describe: Record<keyof ActionLimits, (value: number) => string> = {
  timeout: (v) => `duration ${v} milliseconds`,
  memory: (v) => `memory ${v} MB`,
  logs: (v) => `log size ${v} MB`,
  concurrency: (v) => `concurrency ${v}`,
};
const describeBound: Record<keyof ActionLimits, (value: number) => string> = {
  timeout: (v) => `${v} milliseconds`,
  memory: (v) => `${v} MB`,
  logs: (v) => `${v} MB`,
  concurrency: (v) => `${v}`,
};

/** Merges `given` over `base` field by field and checks every bound; throws OpenWhisk's 400. */
export function mergeLimits(base: ActionLimits, given: Partial<ActionLimits> | undefined): ActionLimits {
  const limits = { ...base, ...given };
  for (const key of Object.keys(ACTION_LIMITS) as (keyof ActionLimits)[]) {
    const value = limits[key];
    const bound = ACTION_LIMITS[key];
    if (value < bound.min) {
      throw apiError(
        'GUST_ERR_LIMIT_OUT_OF_RANGE',
        `${describe[key](value)} below allowed threshold of ${describeBound[key](bound.min)}`,
      );
    }
    if (value > bound.max) {
      throw apiError(
        'GUST_ERR_LIMIT_OUT_OF_RANGE',
        `${describe[key](value)} exceeds allowed threshold of ${describeBound[key](bound.max)}`,
      );
    }
  }
  return {
    timeout: limits.timeout,
    memory: limits.memory,
    logs: limits.logs,
    concurrency: limits.concurrency,
  };
}
