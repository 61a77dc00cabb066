// Entity and namespace names (OpenWhisk entity/EntityPath.scala) and `_` resolution.
import { apiError } from './errors';

const ENTITY_NAME = /^([\w]|[\w][\w@ .&-]{0,254}[\w@.&-])$/;
const MAX_NAME_LENGTH = 256;

/** Throws OpenWhisk's 400 unless `name` is a legal entity name. */
export function assertEntityName(name: string): void {
  if (name.length > MAX_NAME_LENGTH) {
    throw apiError('GUST_ERR_ENTITY_NAME_TOO_LONG', 'Name', name.length, MAX_NAME_LENGTH);
  }
  if (!ENTITY_NAME.test(name)) throw apiError('GUST_ERR_ENTITY_NAME_ILLEGAL');
}

export function isEntityName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && ENTITY_NAME.test(name);
}

export function assertNamespaceName(namespace: string): void {
  if (!isEntityName(namespace)) throw apiError('GUST_ERR_NAMESPACE_ILLEGAL');
}

/** `_` in a URL means the caller's namespace. */
export function resolveNamespace(namespace: string, callerNamespace: string): string {
  return namespace === '_' ? callerNamespace : namespace;
}

/** The namespace path of an entity, `ns` or `ns/pkg`. */
export function entityNamespace(namespace: string, pkg: string | undefined): string {
  return pkg === undefined ? namespace : `${namespace}/${pkg}`;
}
