// JSON schemas shared by the routes: compiled once at boot for validation and serialization.
// Query values are strings (no coercion), so list parameters get OpenWhisk's own messages.

export const KEY_VALUES = {
  type: 'array',
  items: {
    type: 'object',
    required: ['key'],
    properties: { key: { type: 'string' }, value: {}, init: { type: 'boolean' }, encryption: {} },
  },
} as const;

export const ERROR_BODY = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' } },
} as const;

export const BOOLEAN_STRING = { type: 'string', enum: ['true', 'false'] } as const;

/** Any JSON object, serialized as it is. */
export const ANY_OBJECT = { type: 'object', additionalProperties: true } as const;

export const NAMESPACE_PARAMS = {
  type: 'object',
  required: ['namespace'],
  properties: { namespace: { type: 'string' } },
} as const;

export const ENTITY_PARAMS = {
  type: 'object',
  required: ['namespace', 'name'],
  properties: { namespace: { type: 'string' }, name: { type: 'string' } },
} as const;

/** `PUT /:name[?overwrite=true]` of an entity: its schema around the entity's body and response. */
export const putEntitySchema = <Body extends object, Response extends object>(
  body: Body,
  response: Response,
) =>
  ({
    params: ENTITY_PARAMS,
    querystring: { type: 'object', properties: { overwrite: BOOLEAN_STRING } },
    body,
    response: { 200: response },
  }) as const;

export const PACKAGED_ENTITY_PARAMS = {
  type: 'object',
  required: ['namespace', 'pkg', 'name'],
  properties: { namespace: { type: 'string' }, pkg: { type: 'string' }, name: { type: 'string' } },
} as const;

export const LIMITS = {
  type: 'object',
  properties: {
    timeout: { type: 'integer' },
    memory: { type: 'integer' },
    logs: { type: 'integer' },
    concurrency: { type: 'integer' },
  },
} as const;

/** An action's `exec` (docs/reference/openwhisk-contract.md §4.3), as accepted and as returned. */
const EXEC_PROPERTIES = {
  kind: { type: 'string' },
  code: { type: 'string' },
  image: { type: 'string' },
  main: { type: 'string' },
  binary: { type: 'boolean' },
  components: { type: 'array', items: {} },
} as const;
export const ACTION_PUT_BODY = {
  type: 'object',
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    exec: { type: 'object', required: ['kind'], properties: EXEC_PROPERTIES },
    parameters: KEY_VALUES,
    annotations: KEY_VALUES,
    limits: LIMITS,
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
    publish: { type: 'boolean' },
    delAnnotations: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** Fields every entity document carries (docs/reference/openwhisk-contract.md §4.1). */
const ENTITY_FIELDS = {
  namespace: { type: 'string' },
  name: { type: 'string' },
  version: { type: 'string' },
  publish: { type: 'boolean' },
} as const;
export const ACTION = {
  type: 'object',
  properties: {
    ...ENTITY_FIELDS,
    exec: { type: 'object', properties: EXEC_PROPERTIES },
    parameters: KEY_VALUES,
    limits: LIMITS,
    annotations: KEY_VALUES,
    updated: { type: 'integer' },
  },
} as const;

export const ACTION_SUMMARY = {
  type: 'object',
  properties: {
    ...ENTITY_FIELDS,
    annotations: KEY_VALUES,
    limits: LIMITS,
    exec: { type: 'object', properties: { binary: { type: 'boolean' } } },
    updated: { type: 'integer' },
  },
} as const;

const BINDING = {
  type: 'object',
  properties: { namespace: { type: 'string' }, name: { type: 'string' } },
} as const;

export const PACKAGE_PUT_BODY = {
  type: 'object',
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    binding: BINDING,
    parameters: KEY_VALUES,
    annotations: KEY_VALUES,
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
    publish: { type: 'boolean' },
  },
} as const;

export const PACKAGE = {
  type: 'object',
  properties: {
    ...ENTITY_FIELDS,
    binding: BINDING,
    parameters: KEY_VALUES,
    annotations: KEY_VALUES,
    updated: { type: 'integer' },
    actions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, version: { type: 'string' }, annotations: KEY_VALUES },
      },
    },
    feeds: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

/** `{"<collection>": N}` for `count=true`. */
export const countBody = (collection: string) =>
  ({ type: 'object', properties: { [collection]: { type: 'integer' } } }) as const;
