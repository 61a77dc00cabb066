// OpenWhisk's /run message for one activation (contract §6.3), whatever backend runs it.
import { actionPath } from '../../common/names';
import type { RunPayload } from '../../runtimes/runtime-client';
import type { InvokeRequest } from './invoker';

export function runPayload(request: InvokeRequest, runStart: number): RunPayload {
  const { action } = request;
  return {
    value: request.params,
    namespace: request.namespace,
    action_name: `/${actionPath(action)}`,
    action_version: action.version,
    activation_id: request.activationId,
    transaction_id: request.activationId,
    deadline: String(runStart + action.limits.timeout),
  };
}
