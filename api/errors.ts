// The controller's one registry of coded errors: each code has its HTTP status and OpenWhisk's
// message (http/ErrorResponse.scala `Messages`, docs/reference/openwhisk-contract.md §2). Routes
// throw `apiError(...)`; the error handler in http-conventions.ts turns any error into OpenWhisk's
// `{error, code}` body.

type MessageArgs = (string | number)[];

interface ErrorSpec {
  code: string;
  statusCode: number;
  message: (...args: MessageArgs) => string;
}

const spec = (code: string, statusCode: number, message: (...args: MessageArgs) => string): ErrorSpec => ({
  code,
  statusCode,
  message,
});

export const API_ERRORS = {
  // Authentication and entitlement
  GUST_ERR_AUTH_MISSING: spec(
    'GUST_ERR_AUTH_MISSING',
    401,
    () => 'The resource requires authentication, which was not supplied with the request',
  ),
  GUST_ERR_AUTH_INVALID: spec('GUST_ERR_AUTH_INVALID', 401, () => 'The supplied authentication is invalid'),
  GUST_ERR_AUTH_FORBIDDEN: spec(
    'GUST_ERR_AUTH_FORBIDDEN',
    403,
    (resource) => `The supplied authentication is not authorized to access '${resource}'.`,
  ),
  // Routing and request shape
  GUST_ERR_ROUTE_NOT_FOUND: spec(
    'GUST_ERR_ROUTE_NOT_FOUND',
    404,
    () => 'The requested resource does not exist.',
  ),
  GUST_ERR_REQUEST_MALFORMED: spec(
    'GUST_ERR_REQUEST_MALFORMED',
    400,
    (detail) => `The request content was malformed:\n${detail}`,
  ),
  GUST_ERR_REQUEST_MEDIA_TYPE: spec(
    'GUST_ERR_REQUEST_MEDIA_TYPE',
    415,
    () => "The request's Content-Type is not supported. Expected:\napplication/json",
  ),
  GUST_ERR_REQUEST_TOO_LARGE: spec(
    'GUST_ERR_REQUEST_TOO_LARGE',
    413,
    (field, size, max) => `${field} larger than allowed: ${size} > ${max} bytes.`,
  ),
  GUST_ERR_REQUEST_BAD_PARAMETERS: spec(
    'GUST_ERR_REQUEST_BAD_PARAMETERS',
    400,
    () => 'Request defines parameters that are not allowed (e.g., reserved properties).',
  ),
  GUST_ERR_REQUEST_BAD_TIMEOUT: spec(
    'GUST_ERR_REQUEST_BAD_TIMEOUT',
    400,
    (max) => `Timeout must be number of milliseconds up to ${max}.`,
  ),
  // Entities
  GUST_ERR_ENTITY_NOT_FOUND: spec(
    'GUST_ERR_ENTITY_NOT_FOUND',
    404,
    () => 'The requested resource does not exist.',
  ),
  GUST_ERR_ENTITY_EXISTS: spec('GUST_ERR_ENTITY_EXISTS', 409, () => 'resource already exists'),
  GUST_ERR_ENTITY_CONFLICT: spec(
    'GUST_ERR_ENTITY_CONFLICT',
    409,
    () => 'Concurrent modification to resource detected.',
  ),
  GUST_ERR_ENTITY_NAME_ILLEGAL: spec(
    'GUST_ERR_ENTITY_NAME_ILLEGAL',
    400,
    () => 'The name of the entity contains illegal characters.',
  ),
  GUST_ERR_ENTITY_NAME_TOO_LONG: spec(
    'GUST_ERR_ENTITY_NAME_TOO_LONG',
    400,
    (field, size, max) => `${field} longer than allowed: ${size} > ${max}.`,
  ),
  GUST_ERR_NAMESPACE_ILLEGAL: spec(
    'GUST_ERR_NAMESPACE_ILLEGAL',
    400,
    () => 'The namespace contains illegal characters.',
  ),
  GUST_ERR_EXEC_UNDEFINED: spec('GUST_ERR_EXEC_UNDEFINED', 400, () => 'exec undefined'),
  GUST_ERR_RUNTIME_UNSUPPORTED: spec(
    'GUST_ERR_RUNTIME_UNSUPPORTED',
    400,
    (kind, valid) =>
      `The request content was malformed:\nThe specified runtime '${kind}' is not supported by this platform. Valid values are: ${valid}.`,
  ),
  GUST_ERR_LIMIT_OUT_OF_RANGE: spec(
    'GUST_ERR_LIMIT_OUT_OF_RANGE',
    400,
    (detail) => `requirement failed: ${detail}`,
  ),
  GUST_ERR_PACKAGE_RESERVED: spec(
    'GUST_ERR_PACKAGE_RESERVED',
    400,
    (name) => `Package name '${name}' is reserved.`,
  ),
  GUST_ERR_PACKAGE_NOT_EMPTY: spec(
    'GUST_ERR_PACKAGE_NOT_EMPTY',
    409,
    (count) =>
      `Package not empty (contains ${count} ${count === 1 ? 'entity' : 'entities'}). Set force param or delete package contents.`,
  ),
  GUST_ERR_BINDING_MISSING: spec(
    'GUST_ERR_BINDING_MISSING',
    400,
    () => 'Binding references a package that does not exist.',
  ),
  GUST_ERR_BINDING_TO_BINDING: spec(
    'GUST_ERR_BINDING_TO_BINDING',
    400,
    () => 'Cannot bind to another package binding.',
  ),
  GUST_ERR_PACKAGE_NOT_BINDING: spec(
    'GUST_ERR_PACKAGE_NOT_BINDING',
    409,
    () => 'Resource is a package and cannot be converted into a binding.',
  ),
  // Sequences (Actions.scala, SequenceActions.scala)
  GUST_ERR_SEQUENCE_TOO_LONG: spec(
    'GUST_ERR_SEQUENCE_TOO_LONG',
    400,
    () => 'Too many actions in the sequence.',
  ),
  GUST_ERR_SEQUENCE_EMPTY: spec(
    'GUST_ERR_SEQUENCE_EMPTY',
    400,
    () => 'No component specified for the sequence.',
  ),
  GUST_ERR_SEQUENCE_CYCLE: spec('GUST_ERR_SEQUENCE_CYCLE', 400, () => 'Sequence may not refer to itself.'),
  GUST_ERR_SEQUENCE_COMPONENT_MISSING: spec(
    'GUST_ERR_SEQUENCE_COMPONENT_MISSING',
    400,
    () => 'Sequence component does not exist.',
  ),
  // Triggers and rules (Triggers.scala, Rules.scala)
  GUST_ERR_TRIGGER_FEED_INVALID: spec('GUST_ERR_TRIGGER_FEED_INVALID', 400, () => 'Feed name is not valid'),
  GUST_ERR_RULE_INCOMPLETE: spec(
    'GUST_ERR_RULE_INCOMPLETE',
    400,
    () => 'rule requires a valid trigger and a valid action',
  ),
  GUST_ERR_RULE_TRIGGER_MISSING: spec(
    'GUST_ERR_RULE_TRIGGER_MISSING',
    400,
    (path) => `trigger ${path} does not exist`,
  ),
  GUST_ERR_RULE_ACTION_MISSING: spec(
    'GUST_ERR_RULE_ACTION_MISSING',
    400,
    (path) => `action ${path} does not exist`,
  ),
  GUST_ERR_RULE_NO_TRIGGER: spec(
    'GUST_ERR_RULE_NO_TRIGGER',
    404,
    () => 'Only rules with existing triggers can be activated',
  ),
  GUST_ERR_RULE_BAD_STATUS: spec(
    'GUST_ERR_RULE_BAD_STATUS',
    400,
    () => 'The request content was malformed:\nstatus must be active or inactive',
  ),
  // Web actions (WebActions.scala)
  GUST_ERR_WEB_NOT_JSON: spec(
    'GUST_ERR_WEB_NOT_JSON',
    400,
    () => "Response is not valid 'application/json'.",
  ),
  GUST_ERR_WEB_NOT_HTML: spec('GUST_ERR_WEB_NOT_HTML', 400, () => "Response is not valid 'text/html'."),
  GUST_ERR_WEB_NOT_SVG: spec('GUST_ERR_WEB_NOT_SVG', 400, () => "Response is not valid 'image/svg+xml'."),
  GUST_ERR_WEB_NOT_HTTP: spec('GUST_ERR_WEB_NOT_HTTP', 400, () => "Response is not valid 'message/http'."),
  GUST_ERR_WEB_UNKNOWN_TYPE: spec(
    'GUST_ERR_WEB_UNKNOWN_TYPE',
    400,
    () => 'Response did not specify a known content-type.',
  ),
  GUST_ERR_WEB_TYPE_MISMATCH: spec(
    'GUST_ERR_WEB_TYPE_MISMATCH',
    400,
    () => 'Response type in header did not match generated content type.',
  ),
  GUST_ERR_WEB_NO_PROPERTY: spec(
    'GUST_ERR_WEB_NO_PROPERTY',
    404,
    () => 'Response does not include requested property.',
  ),
  GUST_ERR_WEB_ACTION_FAILED: spec(
    'GUST_ERR_WEB_ACTION_FAILED',
    400,
    () => 'There was an error processing your request.',
  ),
  // Listing parameters (docs/reference/openwhisk-contract.md §3.8, §3.4)
  GUST_ERR_LIST_NOT_INTEGER: spec(
    'GUST_ERR_LIST_NOT_INTEGER',
    400,
    (collection, value) => `The value '${value}' is not an integer for ${collection}.`,
  ),
  GUST_ERR_LIST_LIMIT_RANGE: spec(
    'GUST_ERR_LIST_LIMIT_RANGE',
    400,
    (collection, value, max) => `The value '${value}' is not in the range of 0 to ${max} for ${collection}.`,
  ),
  GUST_ERR_LIST_SKIP_RANGE: spec(
    'GUST_ERR_LIST_SKIP_RANGE',
    400,
    (collection, value) => `The value '${value}' is not greater than or equal to 0 for ${collection}.`,
  ),
  GUST_ERR_LIST_DOCS_WITH_COUNT: spec(
    'GUST_ERR_LIST_DOCS_WITH_COUNT',
    400,
    () => "The parameter 'docs' is not permitted with 'count'.",
  ),
  GUST_ERR_LIST_BAD_NAME: spec(
    'GUST_ERR_LIST_BAD_NAME',
    400,
    (value) => `Parameter may be a 'simple' name or 'package-name/simple' name: ${value}`,
  ),
  GUST_ERR_LIST_SKIP_MAX: spec(
    'GUST_ERR_LIST_SKIP_MAX',
    400,
    (collection, value, max) => `The value '${value}' is not in the range of 0 to ${max} for ${collection}.`,
  ),
  GUST_ERR_LIST_BAD_EPOCH: spec(
    'GUST_ERR_LIST_BAD_EPOCH',
    400,
    (value) => `Parameter is not a valid value for epoch seconds: ${value}`,
  ),
  // Activations
  GUST_ERR_ACTIVATION_ID_LENGTH: spec(
    'GUST_ERR_ACTIVATION_ID_LENGTH',
    400,
    (length) => `Activation id length is ${length} but must be 32.`,
  ),
  GUST_ERR_ACTIVATION_ID_ILLEGAL: spec(
    'GUST_ERR_ACTIVATION_ID_ILLEGAL',
    400,
    () => 'The activation id is not valid.',
  ),
  // Load
  GUST_ERR_THROTTLE_RATE: spec(
    'GUST_ERR_THROTTLE_RATE',
    429,
    (count, allowed) => `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  ),
  GUST_ERR_THROTTLE_CONCURRENT: spec(
    'GUST_ERR_THROTTLE_CONCURRENT',
    429,
    (count, allowed) => `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
  ),
  GUST_ERR_LOAD_QUEUE_FULL: spec(
    'GUST_ERR_LOAD_QUEUE_FULL',
    429,
    (action, queued, allowed) =>
      `Too many requests are waiting for action '${action}' (queued: ${queued}, allowed: ${allowed}).`,
  ),
  GUST_ERR_LOAD_OVERLOADED: spec(
    'GUST_ERR_LOAD_OVERLOADED',
    503,
    () => 'System is overloaded, try again later.',
  ),
  GUST_ERR_CONTROL_PLANE_UNAVAILABLE: spec(
    'GUST_ERR_CONTROL_PLANE_UNAVAILABLE',
    503,
    () =>
      'The action needs a new container and the container provisioning service is unavailable, try again later.',
  ),
  GUST_ERR_SERVER_INTERNAL: spec(
    'GUST_ERR_SERVER_INTERNAL',
    500,
    () => 'There was an internal server error.',
  ),
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

// Brand checked instead of `instanceof`, which fails across Jest's module registries.
const API_ERROR_BRAND: unique symbol = Symbol.for('gust.ApiError');

/** An error the controller answers with OpenWhisk's `{error, code}` body and `statusCode`. */
export class ApiError extends Error {
  readonly [API_ERROR_BRAND] = true;
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function apiError(code: ApiErrorCode, ...args: MessageArgs): ApiError {
  const entry = API_ERRORS[code];
  return new ApiError(code, entry.statusCode, entry.message(...args));
}

export function isApiError(err: unknown): err is ApiError {
  return typeof err === 'object' && err !== null && API_ERROR_BRAND in err;
}
