// Triggers and rules, read-only for now: list (with skip/limit/count), get and delete, enough for
// the client's `namespaces.get()`. Creating, firing and rule activation are not implemented yet.
import type { FastifyInstance } from 'fastify';
import type { Collection, EntityDocument } from '../../store/entity-store';
import type { ApiContext } from '../api-context';
import { assertEntityName } from '../entity-names';
import { apiError } from '../errors';
import type { ListQuery } from '../list-params';
import { LIST_QUERY_PROPERTIES, page, parseListParams } from '../list-params';
import { ENTITY_PARAMS, NAMESPACE_PARAMS, countBody } from '../schemas';

export interface ReadOnlyCollectionOptions {
  ctx: ApiContext;
  collection: Extract<Collection, 'triggers' | 'rules'>;
}

const ANY_OBJECT = { type: 'object', additionalProperties: true } as const;

export async function readOnlyCollectionRoutes(
  app: FastifyInstance,
  options: ReadOnlyCollectionOptions,
): Promise<void> {
  const { ctx, collection } = options;
  const { entities } = ctx;

  app.get<{ Querystring: ListQuery }>(
    '/',
    {
      schema: {
        params: NAMESPACE_PARAMS,
        querystring: { type: 'object', properties: LIST_QUERY_PROPERTIES },
        response: { 200: { anyOf: [{ type: 'array', items: ANY_OBJECT }, countBody(collection)] } },
      },
    },
    async (request) => {
      const params = parseListParams(collection, request.query);
      const docs = await entities.list<EntityDocument>(collection, request.namespace);
      if (params.count) return { [collection]: docs.length };
      return page(docs, params);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, response: { 200: ANY_OBJECT } } },
    async (request) => {
      assertEntityName(request.params.name);
      const doc = await entities.get<EntityDocument>(collection, request.namespace, request.params.name);
      if (!doc) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
      return doc;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, response: { 200: ANY_OBJECT } } },
    async (request) => {
      assertEntityName(request.params.name);
      const doc = await entities.store.get<EntityDocument>(
        collection,
        request.namespace,
        request.params.name,
      );
      if (!doc) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
      await entities.delete(collection, request.namespace, request.params.name);
      return doc;
    },
  );
}
