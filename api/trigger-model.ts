// Triggers and rules as OpenWhisk stores and returns them (WhiskTrigger.scala, WhiskRule.scala,
// docs/reference/openwhisk-contract.md §4.4). A rule's status is kept on the rule document (the
// store has no compare-and-set for OpenWhisk's read-modify-write of the trigger's `rules` map); the
// trigger's map is rendered from the rules on read.
import type { KeyValue } from '../common/types';
import type { EntityDocument } from '../store/entity-store';
import { parseQualifiedName } from './action-resolution';
import { isEntityName } from './entity-names';
import { apiError } from './errors';
import { keyValueOf, mergeKeyValues } from './key-values';

export interface Trigger extends EntityDocument {
  version: string;
  publish: boolean;
  parameters: KeyValue[];
  annotations: KeyValue[];
  limits: Record<string, never>;
}

export interface TriggerPut {
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  version?: string;
  publish?: boolean;
}

export type RuleStatus = 'active' | 'inactive';

/** `{path: "ns[/pkg]", name}` */
export interface EntityRef {
  path: string;
  name: string;
}

export interface Rule extends EntityDocument {
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  trigger: EntityRef;
  action: EntityRef;
  status: RuleStatus;
}

export interface RulePut {
  trigger?: unknown;
  action?: unknown;
  annotations?: KeyValue[];
  version?: string;
  publish?: boolean;
}

/** `ns/[pkg/]name` of a reference. */
export const refPath = (ref: EntityRef): string => `${ref.path}/${ref.name}`;

/** `"/ns/[pkg/]name"`, `"/_/name"` or `{path, name}` → a reference with `_` resolved; undefined if invalid. */
export function parseEntityRef(value: unknown, caller: string): EntityRef | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'object' && value !== null && 'name' in value && 'path' in value)
    text = `/${String(value.path)}/${String(value.name)}`;
  else return undefined;
  const parsed = parseQualifiedName(text, caller);
  if (!parsed || ![parsed.namespace, parsed.pkg ?? 'x', parsed.name].every(isEntityName)) return undefined;
  return {
    path: parsed.pkg === undefined ? parsed.namespace : `${parsed.namespace}/${parsed.pkg}`,
    name: parsed.name,
  };
}

/** A `feed` annotation must name an action by its fully qualified name. */
function assertFeedValid(annotations: KeyValue[]): void {
  const feed = keyValueOf(annotations, 'feed');
  if (feed === undefined) return;
  if (typeof feed !== 'string' || !parseEntityRef(feed.startsWith('/') ? feed : `/${feed}`, '_')) {
    throw apiError('GUST_ERR_TRIGGER_FEED_INVALID');
  }
}

export function buildTrigger(
  namespace: string,
  name: string,
  put: TriggerPut,
  existing: Trigger | undefined,
  now: number,
  bumpVersion: (version: string) => string,
): Trigger {
  const annotations = mergeKeyValues(put.annotations ?? existing?.annotations);
  assertFeedValid(annotations);
  return {
    namespace,
    name,
    version: put.version ?? (existing ? bumpVersion(existing.version) : '0.0.1'),
    publish: put.publish ?? existing?.publish ?? false,
    parameters: put.parameters ? mergeKeyValues(put.parameters) : (existing?.parameters ?? []),
    // Update replaces annotations wholesale (docs/reference/openwhisk-contract.md §3.3).
    annotations,
    limits: {},
    updated: now,
  };
}

/** The trigger as the API answers it: with `rules` when any rule names it. */
export function triggerView(trigger: Trigger, rules: Rule[]): Record<string, unknown> {
  const linked = rules.filter((rule) => refPath(rule.trigger) === `${trigger.namespace}/${trigger.name}`);
  if (linked.length === 0) return { ...trigger };
  const map: Record<string, unknown> = {};
  for (const rule of linked) {
    map[`${rule.namespace}/${rule.name}`] = {
      action: { path: rule.action.path, name: rule.action.name },
      status: rule.status,
    };
  }
  return { ...trigger, rules: map };
}

/** List form: the full document without `status` (Rules.scala list). */
export function ruleSummary(rule: Rule): Record<string, unknown> {
  const { status: _status, ...rest } = rule;
  return rest;
}
