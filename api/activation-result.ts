// How a runtime's /init and /run replies become an activation response, exactly as OpenWhisk's
// invoker classifies them (contract §6.2 and §6.4, `ActivationResponse.processRunResponseContent`).
import type { Activation, ActivationStatus } from '../common/types';

export type ActivationResponse = Activation['response'];

/** Replies larger than this are cut and reported as an application error. */
export const MAX_RESULT_BYTES = 1024 * 1024;

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

export const messages = {
  timeout: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds.`,
  initTimeout: (ms: number) =>
    `The action exceeded its time limits of ${ms} milliseconds during initialization.`,
  initExited: 'The action did not initialize and exited unexpectedly.',
  runExited: 'The action did not produce a valid response and exited unexpectedly.',
  memoryExhausted: 'The action exhausted its memory and was aborted.',
  provisionFailed: 'Failed to provision resources to run the action.',
  initFailed: (body: string) => `The action failed during initialization: ${body}`,
  invalidResponse: (body: string) =>
    `The action did not produce a valid JSON or JSON Array response: ${body}`,
  tooLarge: (size: number, truncated: string) =>
    `The action produced a response that exceeded the allowed length: ${size} > ${MAX_RESULT_BYTES} bytes. ` +
    `The truncated response was: ${truncated}`,
};

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Classifies a /run reply. `size` is the reply's length in bytes. */
export function classifyRun(
  statusCode: number,
  body: string,
  size = Buffer.byteLength(body),
): ActivationResponse {
  if (size > MAX_RESULT_BYTES) {
    return response('application error', { error: messages.tooLarge(size, body.slice(0, 1024)) }, size);
  }
  const parsed = parseJson(body);
  if (statusCode === 200) {
    if (parsed.ok && isObject(parsed.value)) {
      return 'error' in parsed.value
        ? response('application error', { error: parsed.value.error }, size)
        : response('success', parsed.value, size);
    }
    if (parsed.ok && Array.isArray(parsed.value)) return response('success', parsed.value, size);
    return response('action developer error', { error: messages.invalidResponse(body) }, size);
  }
  if (parsed.ok && isObject(parsed.value) && 'error' in parsed.value) {
    return response('action developer error', { error: parsed.value.error }, size);
  }
  return response('action developer error', { error: messages.invalidResponse(body) }, size);
}

/** Classifies a failed /init reply (any status but 200). */
export function classifyInitFailure(body: string): ActivationResponse {
  const parsed = parseJson(body);
  if (parsed.ok && isObject(parsed.value) && 'error' in parsed.value)
    return developerError(parsed.value.error);
  return developerError(messages.initFailed(body));
}
