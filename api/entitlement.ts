// Who may read or activate what outside their own namespace (OpenWhisk
// entitlement/PackageCollection.scala): another namespace's package, and the actions in it, are
// readable and invokable iff the package is public (`publish: true`) and not a binding. Checked
// on every request, never remembered from when a binding was created.
import type { Identity } from './authenticator';
import type { EntityCache } from './entity-cache';
import { apiError } from './errors';
import type { Package } from './package-model';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route serves another namespace's public packages; it checks entitlement itself. */
    crossNamespace?: boolean;
  }
}

/** `ns/pkg` for messages. */
const packagePath = (namespace: string, name: string): string => `${namespace}/${name}`;

/**
 * The package `namespace/name` as `caller` may see it. The owner gets 404 for a missing package;
 * anyone else gets 403 for a missing, private or binding package (no information leak).
 */
export async function readablePackage(
  entities: EntityCache,
  caller: Pick<Identity, 'namespace'>,
  namespace: string,
  name: string,
): Promise<Package> {
  const pkg = await entities.get<Package>('packages', namespace, name);
  if (namespace === caller.namespace) {
    if (!pkg) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    return pkg;
  }
  if (!pkg || pkg.binding || !pkg.publish) {
    throw apiError('GUST_ERR_AUTH_FORBIDDEN', packagePath(namespace, name));
  }
  return pkg;
}

/**
 * The package a binding owned by `owner` points at, re-checked now: it must still exist, not be
 * a binding itself, and be public unless it is in the owner's own namespace.
 */
export async function boundPackage(
  entities: EntityCache,
  owner: string,
  binding: { namespace: string; name: string },
): Promise<Package> {
  const bound = await entities.get<Package>('packages', binding.namespace, binding.name);
  if (binding.namespace !== owner && (!bound || !bound.publish || bound.binding)) {
    throw apiError('GUST_ERR_AUTH_FORBIDDEN', packagePath(binding.namespace, binding.name));
  }
  if (!bound || bound.binding) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
  return bound;
}
