// Building an action from a PUT body, as OpenWhisk's Actions.scala does on create and on update
// (contract §3.3, §4.3). Pure: the route reads and writes the store.
import type { Action, ActionExec, ActionLimits, KeyValue } from '../common/types';
import { DEFAULT_LIMITS, SIZE_LIMITS, mergeLimits } from './action-limits';
import { apiError } from './errors';
import { jsonSize, keyValueOf, mergeKeyValues, withoutKeys } from './key-values';
import { BLACKBOX_KIND, resolveRuntimeKind, validKindsList } from './runtimes';

/** The PUT body (validated by the route's JSON schema). */
export interface ActionPut {
  exec?: { kind: string; code?: string; image?: string; main?: string };
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

function resolveExec(exec: NonNullable<ActionPut['exec']>): ActionExec {
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

export function createAction(namespace: string, name: string, put: ActionPut, now: number): Action {
  if (!put.exec) throw apiError('GUST_ERR_EXEC_UNDEFINED');
  const exec = resolveExec(put.exec);
  const parameters = mergeKeyValues(put.parameters);
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
  const exec = put.exec ? resolveExec(put.exec) : existing.exec;
  const parameters = put.parameters ? mergeKeyValues(put.parameters) : existing.parameters;
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

/** List item (contract §4.2). */
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
