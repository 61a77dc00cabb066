// /api/v1/namespaces/:namespace/actions: list, get, create/update, delete
// (docs/reference/openwhisk-contract.md §3.1, §3.3). Actions may sit in a package:
// `actions/pkg/name`; `actions/pkg/` lists that package.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../../common/types';
import type { ApiContext } from '../api-context';
import type { ActionPut } from '../action-model';
import { SEQUENCE_KIND, actionSummary, createAction, updateAction, withoutCode } from '../action-model';
import { actionPath } from '../../common/names';
import { checkSequenceComponents } from '../compositions/sequence';
import { resolveAction } from '../action-resolution';
import { readablePackage } from '../entitlement';
import { assertEntityName, entityNamespace } from '../entity-names';
import { apiError } from '../errors';
import type { ListQuery } from '../list-params';
import { LIST_QUERY_PROPERTIES, page, parseListParams } from '../list-params';
import { mergeKeyValues } from '../key-values';
import type { Package } from '../package-model';
import { callerOf } from '../request-context';
import {
  ACTION,
  ACTION_PUT_BODY,
  ACTION_SUMMARY,
  BOOLEAN_STRING,
  ENTITY_PARAMS,
  NAMESPACE_PARAMS,
  PACKAGED_ENTITY_PARAMS,
  countBody,
} from '../schemas';

interface EntityParams {
  namespace: string;
  pkg?: string;
  name: string;
}

const LIST_RESPONSE = { 200: { anyOf: [{ type: 'array', items: ACTION_SUMMARY }, countBody('actions')] } };

export async function actionRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { entities } = ctx;

  async function requirePackage(namespace: string, pkg: string | undefined): Promise<void> {
    if (pkg === undefined) return;
    assertEntityName(pkg);
    const found = await entities.get<Package>('packages', namespace, pkg);
    // Actions cannot be created in or read through a binding.
    if (!found || found.binding) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
  }

  async function list(request: FastifyRequest<{ Querystring: ListQuery; Params: { pkg?: string } }>) {
    const params = parseListParams('actions', request.query);
    if (request.params.pkg !== undefined) {
      assertEntityName(request.params.pkg);
      await readablePackage(entities, callerOf(request), request.namespace, request.params.pkg);
    }
    let actions = await entities.list<Action>('actions', request.namespace);
    if (request.params.pkg !== undefined) {
      const packagePath = entityNamespace(request.namespace, request.params.pkg);
      actions = actions.filter((action) => action.namespace === packagePath);
    }
    if (params.count) return { actions: actions.length };
    return page(actions, params).map(actionSummary);
  }

  app.get<{ Querystring: ListQuery; Params: { pkg?: string } }>(
    '/',
    {
      schema: {
        params: NAMESPACE_PARAMS,
        querystring: { type: 'object', properties: LIST_QUERY_PROPERTIES },
        response: LIST_RESPONSE,
      },
    },
    list,
  );
  app.get<{ Querystring: ListQuery; Params: { pkg?: string } }>(
    '/:pkg/',
    {
      config: { crossNamespace: true },
      schema: {
        params: { type: 'object', properties: { namespace: { type: 'string' }, pkg: { type: 'string' } } },
        querystring: { type: 'object', properties: LIST_QUERY_PROPERTIES },
        response: LIST_RESPONSE,
      },
    },
    list,
  );

  const getSchema = {
    querystring: { type: 'object', properties: { code: BOOLEAN_STRING } },
    response: { 200: ACTION },
  };
  async function get(request: FastifyRequest<{ Params: EntityParams; Querystring: { code?: string } }>) {
    const { pkg, name } = request.params;
    assertEntityName(name);
    if (pkg !== undefined) assertEntityName(pkg);
    // Through a package or binding (another namespace's public one too): its parameters merged under
    // the action's, as OpenWhisk answers.
    const resolved = await resolveAction(entities, request.namespace, pkg, name, callerOf(request).namespace);
    const action =
      pkg === undefined
        ? resolved.action
        : {
            ...resolved.action,
            parameters: mergeKeyValues(resolved.packageParameters, resolved.action.parameters),
          };
    return request.query.code === 'false' ? withoutCode(action) : action;
  }
  app.get('/:name', { schema: { params: ENTITY_PARAMS, ...getSchema } }, get);
  app.get(
    '/:pkg/:name',
    { config: { crossNamespace: true }, schema: { params: PACKAGED_ENTITY_PARAMS, ...getSchema } },
    get,
  );

  const putSchema = {
    querystring: { type: 'object', properties: { overwrite: BOOLEAN_STRING } },
    body: ACTION_PUT_BODY,
    response: { 200: ACTION },
  };
  async function checkSequence(action: Action): Promise<void> {
    if (action.exec.kind !== SEQUENCE_KIND) return;
    const root = action.namespace.split('/')[0]!;
    await checkSequenceComponents(entities, actionPath(action), action.exec.components ?? [], root);
  }

  async function put(
    request: FastifyRequest<{ Params: EntityParams; Querystring: { overwrite?: string }; Body: ActionPut }>,
  ) {
    const { pkg, name } = request.params;
    assertEntityName(name);
    await requirePackage(request.namespace, pkg);
    const namespace = entityNamespace(request.namespace, pkg);
    const body = request.body ?? {};
    const now = Date.now();
    const existing = await entities.store.get<Action>('actions', namespace, name);
    if (!existing) {
      const action = createAction(namespace, name, body, now);
      await checkSequence(action);
      if (!(await entities.put('actions', action, 'create'))) throw apiError('GUST_ERR_ENTITY_CONFLICT');
      return action;
    }
    if (request.query.overwrite !== 'true') throw apiError('GUST_ERR_ENTITY_EXISTS');
    const action = updateAction(existing, body, now);
    await checkSequence(action);
    await entities.put('actions', action, 'overwrite');
    return action;
  }
  app.put('/:name', { schema: { params: ENTITY_PARAMS, ...putSchema } }, put);
  app.put('/:pkg/:name', { schema: { params: PACKAGED_ENTITY_PARAMS, ...putSchema } }, put);

  async function remove(request: FastifyRequest<{ Params: EntityParams }>, _reply: FastifyReply) {
    const { pkg, name } = request.params;
    assertEntityName(name);
    if (pkg !== undefined) assertEntityName(pkg);
    const namespace = entityNamespace(request.namespace, pkg);
    const action = await entities.store.get<Action>('actions', namespace, name);
    if (!action || !(await entities.delete('actions', namespace, name)))
      throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    ctx.invoker.actionDeleted?.(action);
    return action;
  }
  app.delete('/:name', { schema: { params: ENTITY_PARAMS, response: { 200: ACTION } } }, remove);
  app.delete(
    '/:pkg/:name',
    { schema: { params: PACKAGED_ENTITY_PARAMS, response: { 200: ACTION } } },
    remove,
  );
}
