// The onRequest hook of the namespaced API: authentication, then `_` resolution and entitlement (a
// caller may only touch its own namespace, except on routes that serve public packages and check
// entitlement themselves), before any body is read (docs/reference/openwhisk-contract.md §3.2 check
// order).
import type { FastifyRequest } from 'fastify';
import type { Authenticator } from './authenticator';
import { assertNamespaceName, resolveNamespace } from './entity-names';
import './entitlement';
import { apiError } from './errors';

interface NamespacedParams {
  namespace?: string;
  pkg?: string;
  name?: string;
}

export function makeAuthenticateHook(auth: Authenticator) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const identity = await auth.authenticate(request.headers.authorization);
    request.identity = identity;
    const params = request.params as NamespacedParams;
    if (params.namespace === undefined) return;
    const namespace = resolveNamespace(params.namespace, identity.namespace);
    assertNamespaceName(namespace);
    if (namespace !== identity.namespace && request.routeOptions.config.crossNamespace !== true) {
      const resource = [namespace, params.pkg, params.name]
        .filter((part) => part !== undefined && part !== '')
        .join('/');
      throw apiError('GUST_ERR_AUTH_FORBIDDEN', resource);
    }
    request.namespace = namespace;
  };
}
