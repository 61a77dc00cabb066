// /api/v1/namespaces/:namespace/triggers: list, get (with its `rules` map), create/update, delete,
// and fire (POST). Fire's check order as OpenWhisk: authentication (scope hook) → fire throttle
// (`firesPerMinute`) → payload size → lookup.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SIZE_LIMITS } from '../action-limits';
import { bumpPatchVersion } from '../action-model';
import type { ApiContext } from '../api-context';
import { isAlarmTrigger } from '../catalog/alarm-feeds';
import { rulesOf } from '../compositions/trigger-fire';
import { assertEntityName } from '../entity-names';
import { apiError } from '../errors';
import { keyValuesToObject } from '../key-values';
import { callerOf } from '../request-context';
import { ANY_OBJECT, ENTITY_PARAMS, KEY_VALUES, putEntitySchema } from '../schemas';
import { entityAccess, registerListRoute } from './entity-listing';
import type { Trigger, TriggerPut } from '../trigger-model';
import { buildTrigger, triggerView } from '../trigger-model';

interface TriggerRoute {
  Params: { namespace: string; name: string };
}

const TRIGGER_PUT_BODY = {
  type: 'object',
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    parameters: KEY_VALUES,
    annotations: KEY_VALUES,
    limits: { type: 'object' },
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
    publish: { type: 'boolean' },
  },
} as const;

/** Request headers as `__ow_headers`, lower-cased; the caller's credentials are never passed on. */
function forwardedHeaders(request: FastifyRequest): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (key !== 'authorization') headers[key.toLowerCase()] = value;
  }
  return headers;
}

export async function triggerRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { entities, firing, fireThrottles } = ctx;

  registerListRoute<Trigger>(app, entities, 'triggers');

  const triggers = entityAccess<Trigger>(entities, 'triggers');
  const find = triggers.find;

  app.get<TriggerRoute>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, response: { 200: ANY_OBJECT } } },
    async (request) => {
      const trigger = await find(request.namespace, request.params.name);
      return triggerView(trigger, await rulesOf(entities, trigger));
    },
  );

  app.put<TriggerRoute & { Querystring: { overwrite?: string }; Body: TriggerPut }>(
    '/:name',
    { schema: putEntitySchema(TRIGGER_PUT_BODY, ANY_OBJECT) },
    async (request) => {
      const { name } = request.params;
      assertEntityName(name);
      const existing = await entities.store.get<Trigger>('triggers', request.namespace, name);
      if (existing && request.query.overwrite !== 'true') throw apiError('GUST_ERR_ENTITY_EXISTS');
      const trigger = buildTrigger(
        request.namespace,
        name,
        request.body ?? {},
        existing,
        Date.now(),
        bumpPatchVersion,
      );
      if (!(await entities.put('triggers', trigger, existing ? 'overwrite' : 'create')))
        throw apiError('GUST_ERR_ENTITY_CONFLICT');
      return triggerView(trigger, existing ? await rulesOf(entities, trigger) : []);
    },
  );

  app.delete<TriggerRoute>(
    '/:name',
    { schema: { params: ENTITY_PARAMS, response: { 200: ANY_OBJECT } } },
    async (request) => {
      const { name } = request.params;
      const trigger = await triggers.remove(request.namespace, name);
      // A native alarm's schedule goes with its trigger (the client's feed DELETE then finds none).
      if (ctx.alarms && isAlarmTrigger(trigger)) await ctx.alarms.deleteSchedule(request.namespace, name);
      return trigger;
    },
  );

  async function admitFire(request: FastifyRequest): Promise<void> {
    fireThrottles.admit(request.namespace);
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > SIZE_LIMITS.invokePayload) {
      throw apiError('GUST_ERR_REQUEST_TOO_LARGE', 'Request', length, SIZE_LIMITS.invokePayload);
    }
  }

  app.post<TriggerRoute & { Body: Record<string, unknown> | undefined }>(
    '/:name',
    {
      onRequest: admitFire,
      bodyLimit: SIZE_LIMITS.invokePayload,
      schema: { params: ENTITY_PARAMS, body: { type: 'object' } },
    },
    async (request, reply: FastifyReply) => {
      const trigger = await find(request.namespace, request.params.name);
      const payload = request.body ?? {};
      const args = {
        ...keyValuesToObject(trigger.parameters),
        __ow_headers: forwardedHeaders(request),
        ...payload,
      };
      const fired = await firing.fire(trigger, callerOf(request), args, payload, request.id);
      if (!fired) return reply.code(204).send();
      void reply.header('x-openwhisk-activation-id', fired.activationId);
      return reply.code(202).send({ activationId: fired.activationId });
    },
  );
}
