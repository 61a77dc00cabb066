// How a runtime's /init and /run replies become an activation response, exactly as OpenWhisk's
// invoker classifies them (docs/reference/openwhisk-contract.md §6.2 and §6.4,
// `ActivationResponse.processRunResponseContent`). Pure: the reply text is parsed here, once. Texts
// come from common/whisk-messages.ts.
import type { Activation, ActivationStatus } from '../../common/types';
import { MAX_RESULT_BYTES, WHISK_MESSAGES } from '../../common/whisk-messages';

export type ActivationResponse = Activation['response'];

const STATUS_CODES: Record<ActivationStatus, number> = {
  success: 0,
  'application error': 1,
  'action developer error': 2,
  'whisk internal error': 3,
};

export function response(status: ActivationStatus, result: unknown, size?: number): ActivationResponse {
  const r: ActivationResponse = {
    status,
    statusCode: STATUS_CODES[status],
    success: status === 'success',
    result,
  };
  if (size !== undefined) r.size = size;
  return r;
}

export const developerError = (error: unknown): ActivationResponse =>
  response('action developer error', { error });
export const whiskError = (error: unknown): ActivationResponse => response('whisk internal error', { error });

/** The `error` field of a failed response's result, as text (the reason a container is destroyed). */
export function failureReason(r: ActivationResponse): string {
  const error = (r.result as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? error : r.status;
}

const NOT_JSON: unique symbol = Symbol('not JSON');

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return NOT_JSON;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Classifies a /run reply. `size` is the reply's length in bytes (may exceed `body.length` when cut). */
export function classifyRun(
  statusCode: number,
  body: string,
  size = Buffer.byteLength(body),
): ActivationResponse {
  if (size > MAX_RESULT_BYTES) {
    return response('application error', { error: WHISK_MESSAGES.tooLarge(size, body.slice(0, 1024)) }, size);
  }
  const value = parseJson(body);
  if (statusCode === 200) {
    if (isObject(value)) {
      return 'error' in value
        ? response('application error', { error: value.error }, size)
        : response('success', value, size);
    }
    if (Array.isArray(value)) return response('success', value, size);
    return response('action developer error', { error: WHISK_MESSAGES.invalidResponse(body) }, size);
  }
  if (isObject(value) && 'error' in value) {
    return response('action developer error', { error: value.error }, size);
  }
  return response('action developer error', { error: WHISK_MESSAGES.invalidResponse(body) }, size);
}

/** Classifies a failed /init reply (any status but 200). */
export function classifyInitFailure(body: string): ActivationResponse {
  const value = parseJson(body);
  if (isObject(value) && 'error' in value) return developerError(value.error);
  return developerError(WHISK_MESSAGES.initFailed(body));
}
