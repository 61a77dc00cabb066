// Finds the action an invoke names and the package parameters it inherits: `name`, `pkg/name`,
// or `binding/name` (the bound package's action, its parameters under the binding's). Entitlement
// is checked here, on every call: another namespace's package must be public, and a binding's
// target is re-checked each time (entitlement.ts).
import type { Action, KeyValue } from '../common/types';
import type { EntityCache } from './entity-cache';
import { boundPackage, readablePackage } from './entitlement';
import { entityNamespace } from './entity-names';
import { apiError } from './errors';
import { mergeKeyValues } from './key-values';

export interface ResolvedAction {
  action: Action;
  /** Package (and binding) parameters, lowest precedence. */
  packageParameters: KeyValue[];
  /** `ns/binding` when the action was reached through a package binding (activation annotation). */
  binding?: string;
}

/** `caller` is the namespace of whoever asks (default: the owner's own). */
export async function resolveAction(
  entities: EntityCache,
  namespace: string,
  pkg: string | undefined,
  name: string,
  caller: string = namespace,
): Promise<ResolvedAction> {
  if (pkg === undefined) {
    if (namespace !== caller) throw apiError('GUST_ERR_AUTH_FORBIDDEN', `${namespace}/${name}`);
    const action = await entities.get<Action>('actions', namespace, name);
    if (!action) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    return { action, packageParameters: [] };
  }
  const container = await readablePackage(entities, { namespace: caller }, namespace, pkg);
  if (container.binding) {
    const bound = await boundPackage(entities, namespace, container.binding);
    const action = await entities.get<Action>('actions', entityNamespace(bound.namespace, bound.name), name);
    if (!action) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    return {
      action,
      packageParameters: mergeKeyValues(bound.parameters, container.parameters),
      binding: `${namespace}/${pkg}`,
    };
  }
  const action = await entities.get<Action>('actions', entityNamespace(namespace, pkg), name);
  if (!action) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
  return { action, packageParameters: container.parameters };
}

/**
 * A fully qualified name `/ns/[pkg/]name` (a leading slash optional, `_` = `caller`) split into
 * its parts; undefined when it has no namespace.
 */
export function parseQualifiedName(
  path: string,
  caller: string,
): { namespace: string; pkg?: string; name: string } | undefined {
  const parts = path.replace(/^\//, '').split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  const namespace = parts[0] === '_' ? caller : parts[0]!;
  return parts.length === 2 ? { namespace, name: parts[1]! } : { namespace, pkg: parts[1]!, name: parts[2]! };
}
