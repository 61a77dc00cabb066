// The API forms of an activation record (docs/reference/openwhisk-contract.md §5.1, §3.4): the
// stored record keeps `statusCode`; the API drops it and answers `response` as `{status, success,
// result, size?}`.
import type { Activation } from '../common/types';

export type ApiActivationResponse = Omit<Activation['response'], 'statusCode'>;
export type ApiActivation = Omit<Activation, 'statusCode' | 'response'> & { response: ApiActivationResponse };

export function apiResponse(response: Activation['response']): ApiActivationResponse {
  const { statusCode: _statusCode, ...rest } = response;
  return rest;
}

/** A trigger's record has no end (OpenWhisk stores the epoch): `end` and `duration` are left out. */
export function apiActivation(record: Activation): ApiActivation {
  const { statusCode: _statusCode, response, ...rest } = record;
  if (rest.end === 0) {
    const { end: _end, duration: _duration, ...open } = rest;
    return { ...open, response: apiResponse(response) } as ApiActivation;
  }
  return { ...rest, response: apiResponse(response) };
}

/** A list item without `docs`: the CouchDB view's fields, `statusCode` at the top level. */
export function activationSummary(record: Activation): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    namespace: record.namespace,
    name: record.name,
    version: record.version,
    publish: record.publish,
    annotations: record.annotations,
    activationId: record.activationId,
    start: record.start,
  };
  if (record.end) {
    summary.end = record.end;
    summary.duration = record.duration;
    summary.statusCode = record.response.statusCode;
  }
  if (record.cause !== undefined) summary.cause = record.cause;
  return summary;
}

const KEY_VALUE_ARRAY = {
  type: 'array',
  items: { type: 'object', properties: { key: { type: 'string' }, value: {} } },
} as const;

const RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    success: { type: 'boolean' },
    result: {},
    size: { type: 'integer' },
  },
} as const;

/** Response schema of a full activation record, for fast serialization. */
export const ACTIVATION_SCHEMA = {
  type: 'object',
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    subject: { type: 'string' },
    activationId: { type: 'string' },
    start: { type: 'integer' },
    end: { type: 'integer' },
    duration: { type: 'integer' },
    response: RESPONSE_SCHEMA,
    logs: { type: 'array', items: { type: 'string' } },
    annotations: KEY_VALUE_ARRAY,
    publish: { type: 'boolean' },
    cause: { type: 'string' },
  },
} as const;

export const ACTIVATION_RESULT_SCHEMA = RESPONSE_SCHEMA;
export { KEY_VALUE_ARRAY };
