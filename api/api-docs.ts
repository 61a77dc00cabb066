// The OpenAPI description of the REST API, generated from the routes' own JSON schemas by
// @fastify/swagger and served, unauthenticated, at /api/v1/api-docs (where OpenWhisk serves its
// description; GET /api/v1 names the path). test/fuzz/ fuzzes the API from it with schemathesis.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/** Registers the generator; call before any route so that every route is described. */
export function registerApiDocs(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gust: the OpenWhisk REST API',
        description: 'Actions, packages, activations, triggers, rules and namespaces (OpenWhisk API v1).',
        version: '1.0.0',
      },
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
      security: [{ basic: [] }],
    },
  });
  app.get('/api/v1/api-docs', { schema: { hide: true } }, async () => app.swagger());
}
