// /api/v1/namespaces/:namespace/activations (docs/reference/openwhisk-contract.md §3.4): list, get,
// result, logs. A caller only sees activations recorded in its own namespace.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Activation } from '../../common/types';
import type { ActivationQuery } from '../../store/activation-store';
import {
  ACTIVATION_RESULT_SCHEMA,
  ACTIVATION_SCHEMA,
  activationSummary,
  apiActivation,
  apiResponse,
} from '../activation-view';
import type { ApiContext } from '../api-context';
import { isEntityName } from '../entity-names';
import { apiError } from '../errors';
import type { ListQuery } from '../list-params';
import { LIST_QUERY_PROPERTIES, parseListParams } from '../list-params';
import { BOOLEAN_STRING, NAMESPACE_PARAMS, countBody } from '../schemas';

interface ActivationListQuery extends ListQuery {
  name?: string;
  since?: string;
  upto?: string;
  docs?: string;
}

const ACTIVATION_ID = /^[0-9a-f]{32}$/;
/** Deepest page of a listing: each skipped record is read (audit H7). */
export const ACTIVATION_SKIP_MAX = 10_000;
/** `docs=true` stops adding records past this many bytes of JSON (full records carry logs). */
const DOCS_MAX_BYTES = 32 * 1024 * 1024;
const ID_PARAMS = {
  type: 'object',
  required: ['namespace', 'activationId'],
  properties: { namespace: { type: 'string' }, activationId: { type: 'string' } },
} as const;

function assertActivationId(id: string): void {
  if (id.length !== 32) throw apiError('GUST_ERR_ACTIVATION_ID_LENGTH', id.length);
  if (!ACTIVATION_ID.test(id)) throw apiError('GUST_ERR_ACTIVATION_ID_ILLEGAL');
}

function epoch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw apiError('GUST_ERR_LIST_BAD_EPOCH', value);
  return Number(value);
}

function nameFilter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parts = value.split('/');
  if (parts.length > 2 || !parts.every(isEntityName)) throw apiError('GUST_ERR_LIST_BAD_NAME', value);
  return value;
}

export async function activationRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { activations } = ctx;

  app.get<{ Querystring: ActivationListQuery }>(
    '/',
    {
      schema: {
        params: NAMESPACE_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            ...LIST_QUERY_PROPERTIES,
            name: { type: 'string' },
            since: { type: 'string' },
            upto: { type: 'string' },
            docs: BOOLEAN_STRING,
          },
        },
        response: {
          200: {
            anyOf: [
              { type: 'array', items: { type: 'object', additionalProperties: true } },
              countBody('activations'),
            ],
          },
        },
      },
    },
    async (request, reply) => {
      const { query } = request;
      const params = parseListParams('activations', query);
      if (params.skip > ACTIVATION_SKIP_MAX)
        throw apiError('GUST_ERR_LIST_SKIP_MAX', 'activations', params.skip, ACTIVATION_SKIP_MAX);
      const docs = query.docs === 'true';
      if (docs && params.count) throw apiError('GUST_ERR_LIST_DOCS_WITH_COUNT');
      // A client that goes away stops the store's queries (audit H7).
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const filter: ActivationQuery = {
        name: nameFilter(query.name),
        since: epoch(query.since),
        upto: epoch(query.upto),
        skip: params.skip,
        limit: params.limit,
        signal: gone.signal,
      };
      if (params.count) return { activations: await activations.count(request.namespace, filter) };
      const listed = await activations.list(request.namespace, filter);
      if (!docs) return listed.map(activationSummary);
      // Listings carry no logs; full documents are read by id, a few at a time, within a byte budget.
      const full: Activation[] = [];
      let bytes = 0;
      for (let i = 0; i < listed.length && bytes < DOCS_MAX_BYTES; i += 8) {
        gone.signal.throwIfAborted();
        const chunk = listed.slice(i, i + 8);
        const records = await Promise.all(
          chunk.map((a) => activations.get(request.namespace, a.activationId)),
        );
        for (const record of records) {
          if (record === undefined || bytes >= DOCS_MAX_BYTES) continue;
          bytes += JSON.stringify(record).length;
          full.push(record);
        }
      }
      return full.map(apiActivation);
    },
  );

  async function find(request: FastifyRequest<{ Params: { activationId: string } }>): Promise<Activation> {
    const { activationId } = request.params;
    assertActivationId(activationId);
    const record = await activations.get(request.namespace, activationId);
    if (!record) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    return record;
  }

  app.get<{ Params: { activationId: string } }>(
    '/:activationId',
    { schema: { params: ID_PARAMS, response: { 200: ACTIVATION_SCHEMA } } },
    async (request) => apiActivation(await find(request)),
  );
  app.get<{ Params: { activationId: string } }>(
    '/:activationId/result',
    { schema: { params: ID_PARAMS, response: { 200: ACTIVATION_RESULT_SCHEMA } } },
    async (request) => apiResponse((await find(request)).response),
  );
  app.get<{ Params: { activationId: string } }>(
    '/:activationId/logs',
    {
      schema: {
        params: ID_PARAMS,
        response: {
          200: { type: 'object', properties: { logs: { type: 'array', items: { type: 'string' } } } },
        },
      },
    },
    async (request) => ({ logs: (await find(request)).logs }),
  );
}
