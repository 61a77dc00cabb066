// The one builder of an action's activation record (docs/reference/openwhisk-contract.md §5.3):
// every record the invoke core writes, whatever the outcome, is made here.
import { actionPath } from '../../common/names';
import type { Activation, KeyValue } from '../../common/types';
import type { ActivationResponse } from './classify';
import type { InvokeRequest } from './invoker';

export interface RecordTiming {
  /** When the activation started running (after any wait for a container), ms since the epoch. */
  start: number;
  end: number;
  /** Time from receipt to start: the wait for a container. */
  waitTime: number;
  /** Set when this activation sent /init. */
  initTime?: number;
  /** The action's time limit was hit. */
  timeout: boolean;
}

export function activationRecord(
  request: InvokeRequest,
  response: ActivationResponse,
  timing: RecordTiming,
): Activation {
  const { action } = request;
  const annotations: KeyValue[] = [
    { key: 'path', value: actionPath(action) },
    { key: 'waitTime', value: timing.waitTime },
    { key: 'kind', value: action.exec.kind },
    { key: 'timeout', value: timing.timeout },
    { key: 'limits', value: action.limits },
  ];
  if (timing.initTime !== undefined) annotations.push({ key: 'initTime', value: timing.initTime });
  // A component of a sequence or conductor composition (SequenceActions.scala).
  if (request.cause !== undefined) annotations.push({ key: 'causedBy', value: 'sequence' });
  if (request.annotations) annotations.push(...request.annotations);
  const record: Activation = {
    namespace: request.namespace,
    name: action.name,
    version: action.version,
    subject: request.subject,
    activationId: request.activationId,
    start: timing.start,
    end: timing.end,
    duration: timing.end - timing.start,
    statusCode: response.statusCode,
    response,
    logs: [],
    annotations,
    publish: false,
  };
  if (request.cause !== undefined) record.cause = request.cause;
  return record;
}
