// The activation context OpenWhisk gives an action (docs/reference/openwhisk-contract.md §6.2,
// §6.3), whatever backend runs it: the /run message, and the same fields as `__OW_<KEY>` variables
// in /init's environment.
import { actionPath } from '../../common/names';
import type { RunPayload } from '../../runtimes/runtime-client';
import type { InvokeRequest } from './invoker';

/**
 * /run's body; `deadline` is `start` + the action's time limit, as a string; `api_key` when the
 * action is to get one (`request.apiKey`, resolved; '' when the caller has none, so a warm
 * container's environment never keeps an earlier caller's).
 */
export function runPayload(request: InvokeRequest, start: number, apiKey?: string): RunPayload {
  const { action } = request;
  return {
    value: request.params,
    namespace: request.namespace,
    action_name: `/${actionPath(action)}`,
    action_version: action.version,
    activation_id: request.activationId,
    transaction_id: request.transactionId,
    deadline: String(start + action.limits.timeout),
    ...(apiKey !== undefined ? { api_key: apiKey } : {}),
  };
}

/**
 * /init's context variables: every string field of the /run message but `value`, as
 * `__OW_<KEY>` (`__OW_ACTIVATION_ID`, `__OW_TRANSACTION_ID`, `__OW_DEADLINE`, `__OW_API_KEY`, …), the deadline
 * counted from the /init call (ContainerProxy computes it separately for /init and /run).
 */
export function initContextEnv(
  request: InvokeRequest,
  start: number,
  apiKey?: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(runPayload(request, start, apiKey))) {
    if (key !== 'value' && typeof value === 'string') env[`__OW_${key.toUpperCase()}`] = value;
  }
  return env;
}
