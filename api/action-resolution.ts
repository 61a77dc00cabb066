// Finds the action an invoke names and the package parameters it inherits: `name`, `pkg/name`,
// or `binding/name` (the bound package's action, its parameters under the binding's).
import type { Action, KeyValue } from '../common/types';
import type { EntityCache } from './entity-cache';
import { entityNamespace } from './entity-names';
import { apiError } from './errors';
import { mergeKeyValues } from './key-values';
import type { Package } from './package-model';

export interface ResolvedAction {
  action: Action;
  /** Package (and binding) parameters, lowest precedence. */
  packageParameters: KeyValue[];
}

export async function resolveAction(
  entities: EntityCache,
  namespace: string,
  pkg: string | undefined,
  name: string,
): Promise<ResolvedAction> {
  if (pkg === undefined) {
    const action = await entities.get<Action>('actions', namespace, name);
    if (!action) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    return { action, packageParameters: [] };
  }
  const container = await entities.get<Package>('packages', namespace, pkg);
  if (!container) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
  if (container.binding) {
    const bound = await entities.get<Package>(
      'packages',
      container.binding.namespace,
      container.binding.name,
    );
    const action =
      bound && (await entities.get<Action>('actions', entityNamespace(bound.namespace, bound.name), name));
    if (!bound || !action) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    return { action, packageParameters: mergeKeyValues(bound.parameters, container.parameters) };
  }
  const action = await entities.get<Action>('actions', entityNamespace(namespace, pkg), name);
  if (!action) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
  return { action, packageParameters: container.parameters };
}
