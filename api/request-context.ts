// Per-request fields the namespaced routes rely on, declared up front (decorateRequest) so the
// request object keeps one shape.
import type { Identity } from './authenticator';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set by the authentication hook of the namespaced API. */
    identity: Identity | null;
    /** The URL's namespace with `_` resolved; '' on routes without one. */
    namespace: string;
  }
}

export function callerOf(request: { identity: Identity | null }): Identity {
  if (!request.identity) throw new Error('route registered outside the authenticated scope');
  return request.identity;
}
