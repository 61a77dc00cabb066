// What the rule and trigger routes share: `GET /` of a collection (a page of the namespace's
// documents, or their count), and the get-or-404 and delete-or-404 of one document.
import type { FastifyInstance } from 'fastify';
import type { Collection, EntityDocument } from '../../store/entity-store';
import type { EntityCache } from '../entity-cache';
import { assertEntityName } from '../entity-names';
import { apiError } from '../errors';
import type { ListQuery } from '../list-params';
import { LIST_QUERY_PROPERTIES, page, parseListParams } from '../list-params';
import { ANY_OBJECT, NAMESPACE_PARAMS, countBody } from '../schemas';

/** Registers `GET /`: the caller's namespace's documents of `collection`, paged, each `summarize`d. */
export function registerListRoute<T extends EntityDocument>(
  app: FastifyInstance,
  entities: EntityCache,
  collection: 'rules' | 'triggers',
  summarize: (doc: T) => unknown = (doc) => doc,
): void {
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
      const docs = await entities.list<T>(collection, request.namespace);
      if (params.count) return { [collection]: docs.length };
      return page(docs, params).map(summarize);
    },
  );
}

/**
 * The one-document reads and deletes of `collection`: `find` (get-or-404) and `remove`
 * (delete-or-404, resolving with what was deleted).
 */
export function entityAccess<T extends EntityDocument>(entities: EntityCache, collection: Collection) {
  return {
    async find(namespace: string, name: string): Promise<T> {
      assertEntityName(name);
      const doc = await entities.get<T>(collection, namespace, name);
      if (!doc) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
      return doc;
    },
    async remove(namespace: string, name: string): Promise<T> {
      assertEntityName(name);
      const doc = await entities.store.get<T>(collection, namespace, name);
      if (!doc || !(await entities.delete(collection, namespace, name)))
        throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
      return doc;
    },
  };
}
