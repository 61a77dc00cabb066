// Building an action from a PUT body, as OpenWhisk's Actions.scala does on create and on update
// (docs/reference/openwhisk-contract.md §3.3, §4.3). Pure: the route reads and writes the store.
import type { Action, ActionExec, ActionLimits, KeyValue } from '../common/types';
import { DEFAULT_LIMITS, SIZE_LIMITS, mergeLimits } from './action-limits';
import { parseQualifiedName } from './action-resolution';
import { isEntityName } from './entity-names';
import { apiError } from './errors';
import { jsonSize, keyValueOf, mergeKeyValues, withoutKeys } from './key-values';
import { BLACKBOX_KIND, resolveRuntimeKind, validKindsList } from './runtimes';

/** The PUT body (validated by the route's JSON schema). */
export interface ActionPut {
  exec?: { kind: string; code?: string; image?: string; main?: string; components?: unknown[] };
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  limits?: Partial<ActionLimits>;
  version?: string;
  publish?: boolean;
  delAnnotations?: string[];
}

const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?$/;

/** OpenWhisk computes `binary` itself: trimmed code that is valid base64 (a zip). */
export function isBinaryCode(code: string): boolean {
  const trimmed = code.trim();
  return trimmed.length > 0 && trimmed.length % 4 === 0 && BASE64.test(trimmed);
}

export const SEQUENCE_KIND = 'sequence';

/** A component as `"/ns/[pkg/]name"` or `{path, name}`, normalised to `/ns/[pkg/]name` with `_` resolved. */
function sequenceComponent(component: unknown, rootNamespace: string): string {
  const raw =
    typeof component === 'object' && component !== null
      ? `/${String((component as { path?: unknown }).path)}/${String((component as { name?: unknown }).name)}`
      : String(component);
  const parsed = parseQualifiedName(raw, rootNamespace);
  if (!parsed || ![parsed.namespace, parsed.pkg ?? 'x', parsed.name].every(isEntityName)) {
    throw apiError(
      'GUST_ERR_REQUEST_MALFORMED',
      'requirement failed: The fully qualified name of the entity must contain at least the namespace and the name of the entity.',
    );
  }
  return `/${parsed.namespace}/${parsed.pkg === undefined ? '' : `${parsed.pkg}/`}${parsed.name}`;
}

/** The exec of a sequence; components are checked against the store by the route (sequence-validation.ts). */
function sequenceExec(components: unknown[] | undefined, rootNamespace: string): ActionExec {
  if (!components || components.length === 0) throw apiError('GUST_ERR_SEQUENCE_EMPTY');
  return {
    kind: SEQUENCE_KIND,
    components: components.map((c) => sequenceComponent(c, rootNamespace)),
    binary: false,
  };
}

function resolveExec(exec: NonNullable<ActionPut['exec']>, rootNamespace: string): ActionExec {
  if (exec.kind === SEQUENCE_KIND) return sequenceExec(exec.components, rootNamespace);
  if (exec.code !== undefined) {
    const size = Buffer.byteLength(exec.code, 'utf8');
    if (size > SIZE_LIMITS.exec) throw apiError('GUST_ERR_REQUEST_TOO_LARGE', 'exec', size, SIZE_LIMITS.exec);
  }
  if (exec.kind === BLACKBOX_KIND) {
    if (exec.image === undefined || exec.image.trim() === '') {
      throw apiError('GUST_ERR_REQUEST_MALFORMED', 'blackbox exec requires an image');
    }
    const resolved: ActionExec = { kind: BLACKBOX_KIND, image: exec.image, binary: false };
    if (exec.code !== undefined && exec.code !== '') {
      resolved.code = exec.code;
      resolved.binary = isBinaryCode(exec.code);
    }
    if (exec.main !== undefined) resolved.main = exec.main;
    return resolved;
  }
  const runtime = resolveRuntimeKind(exec.kind);
  if (!runtime) throw apiError('GUST_ERR_RUNTIME_UNSUPPORTED', exec.kind, validKindsList());
  if (exec.code === undefined)
    throw apiError('GUST_ERR_REQUEST_MALFORMED', `'code' is required for kind '${runtime.kind}'`);
  const resolved: ActionExec = { kind: runtime.kind, code: exec.code, binary: isBinaryCode(exec.code) };
  if (exec.main !== undefined) resolved.main = exec.main;
  return resolved;
}

function checkSizes(parameters: KeyValue[], annotations: KeyValue[]): void {
  const parametersSize = jsonSize(parameters);
  if (parametersSize > SIZE_LIMITS.parameters) {
    throw apiError('GUST_ERR_REQUEST_TOO_LARGE', 'parameters', parametersSize, SIZE_LIMITS.parameters);
  }
  const annotationsSize = jsonSize(annotations);
  if (annotationsSize > SIZE_LIMITS.annotations) {
    throw apiError('GUST_ERR_REQUEST_TOO_LARGE', 'annotations', annotationsSize, SIZE_LIMITS.annotations);
  }
}

/** `0.0.1` → `0.0.2`. */
export function bumpPatchVersion(version: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) return '0.0.1';
  return `${match[1]}.${match[2]}.${Number(match[3]) + 1}`;
}

/** A sequence's only parameter is `_actions`, its components (PUT parameters are discarded). */
function parametersFor(exec: ActionExec, put: KeyValue[] | undefined): KeyValue[] {
  if (exec.kind === SEQUENCE_KIND) return [{ key: '_actions', value: exec.components }];
  return mergeKeyValues(put);
}

const rootOf = (namespace: string): string => namespace.split('/')[0]!;

export function createAction(namespace: string, name: string, put: ActionPut, now: number): Action {
  if (!put.exec) throw apiError('GUST_ERR_EXEC_UNDEFINED');
  const exec = resolveExec(put.exec, rootOf(namespace));
  const parameters = parametersFor(exec, put.parameters);
  let annotations = mergeKeyValues(put.annotations, [{ key: 'exec', value: execAnnotation(exec) }]);
  // Feature flag `require-api-key-annotation`: new actions get no API key unless they ask for one.
  if (keyValueOf(annotations, 'provide-api-key') === undefined) {
    annotations = mergeKeyValues(annotations, [{ key: 'provide-api-key', value: false }]);
  }
  checkSizes(parameters, annotations);
  return {
    namespace,
    name,
    version: put.version ?? '0.0.1',
    exec,
    parameters,
    annotations,
    limits: mergeLimits(DEFAULT_LIMITS, put.limits),
    publish: put.publish ?? false,
    updated: now,
  };
}

/** OpenWhisk's `updateWhiskAction` merge rules. */
export function updateAction(existing: Action, put: ActionPut, now: number): Action {
  const exec = put.exec ? resolveExec(put.exec, rootOf(existing.namespace)) : existing.exec;
  const parameters =
    exec.kind === SEQUENCE_KIND || put.parameters
      ? parametersFor(exec, put.parameters ?? existing.parameters)
      : existing.parameters;
  const annotations = mergeKeyValues(
    withoutKeys(existing.annotations, put.delAnnotations ?? []),
    put.annotations,
    [{ key: 'exec', value: execAnnotation(exec) }],
  );
  checkSizes(parameters, annotations);
  return {
    namespace: existing.namespace,
    name: existing.name,
    version: put.version ?? bumpPatchVersion(existing.version),
    exec,
    parameters,
    annotations,
    limits: mergeLimits(existing.limits, put.limits),
    publish: put.publish ?? existing.publish,
    updated: now,
  };
}

/** The `exec` annotation carries the resolved kind, as OpenWhisk writes it. */
function execAnnotation(exec: ActionExec): string {
  return exec.kind;
}

/** GET without code (`?code=false`). */
export function withoutCode(action: Action): Action {
  const { code: _code, ...exec } = action.exec;
  return { ...action, exec };
}

/** List item (docs/reference/openwhisk-contract.md §4.2). */
export function actionSummary(action: Action): Record<string, unknown> {
  return {
    namespace: action.namespace,
    name: action.name,
    version: action.version,
    publish: action.publish,
    annotations: action.annotations,
    limits: action.limits,
    exec: { binary: action.exec.binary ?? false },
    updated: action.updated,
  };
}
