// POST /api/v1/namespaces/:namespace/actions/[pkg/]name: invoke
// (docs/reference/openwhisk-contract.md §3.2). Check order as OpenWhisk: authentication (scope
// hook) → throttles → payload size → entity lookup.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Activation } from '../../common/types';
import { SIZE_LIMITS } from '../action-limits';
import { apiActivation } from '../activation-view';
import type { ApiContext } from '../api-context';
import { resolveAction } from '../action-resolution';
import { assertEntityName } from '../entity-names';
import { apiError } from '../errors';
import { assertFinalParametersKept } from '../compositions/composition-starter';
import { callerOf } from '../request-context';
import { settledWithin } from '../settled-within';
import { BOOLEAN_STRING, ENTITY_PARAMS, PACKAGED_ENTITY_PARAMS } from '../schemas';

interface InvokeRoute {
  Params: { namespace: string; pkg?: string; name: string };
  Querystring: { blocking?: string; result?: string; timeout?: string };
  Body: Record<string, unknown> | undefined;
}

const ACCEPTED = { type: 'object', properties: { activationId: { type: 'string' } } } as const;

/** Blocking answers by outcome: success 200, application/developer error 502, whisk error 500. */
export function httpStatusOf(activation: Activation): number {
  const code = activation.response.statusCode;
  if (code === 0) return 200;
  if (code === 3) return 500;
  return 502;
}

export async function invokeRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { entities, compositions, throttles, config } = ctx;
  const maxWaitMs = config.controller.blockingWaitMs;

  // Synchronous (callback style): no promise per request for a check that never waits.
  function admit(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    try {
      throttles.admit(request.namespace);
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > SIZE_LIMITS.invokePayload) {
        throw apiError('GUST_ERR_REQUEST_TOO_LARGE', 'Request', length, SIZE_LIMITS.invokePayload);
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  }

  async function invoke(request: FastifyRequest<InvokeRoute>, reply: FastifyReply) {
    const { pkg, name } = request.params;
    assertEntityName(name);
    if (pkg !== undefined) assertEntityName(pkg);
    const blocking = request.query.blocking === 'true';
    const waitMs = blockingWait(request.query.timeout, maxWaitMs);
    const payload = request.body ?? {};

    const caller = callerOf(request);
    const resolved = await resolveAction(entities, request.namespace, pkg, name, caller.namespace);
    assertFinalParametersKept(resolved, payload);
    const started = compositions.start({
      ...resolved,
      payload,
      identity: caller,
      transactionId: request.id,
    });
    if (started.kind === 'refused') throw started.error;
    const { activationId, completion } = started;
    void reply.header('x-openwhisk-activation-id', activationId);
    if (!blocking) return reply.code(202).send({ activationId });

    const done = await settledWithin(completion, waitMs);
    if (done === undefined) return reply.code(202).send({ activationId });
    const { activation } = done;
    const result = activation.response.result;
    const body =
      request.query.result === 'true' || Array.isArray(result) ? result : apiActivation(activation);
    return reply.code(httpStatusOf(activation)).send(body);
  }

  const schema = {
    querystring: {
      type: 'object',
      properties: { blocking: BOOLEAN_STRING, result: BOOLEAN_STRING, timeout: { type: 'string' } },
    },
    body: { type: 'object' },
    response: { 202: ACCEPTED },
  };
  // Payloads above 1 MB are refused from Content-Length in `admit`; the body limit catches chunked ones.
  const options = { onRequest: admit, bodyLimit: SIZE_LIMITS.invokePayload };
  app.post<InvokeRoute>('/:name', { ...options, schema: { ...schema, params: ENTITY_PARAMS } }, invoke);
  app.post<InvokeRoute>(
    '/:pkg/:name',
    { ...options, config: { crossNamespace: true }, schema: { ...schema, params: PACKAGED_ENTITY_PARAMS } },
    invoke,
  );
}

/** `timeout` query parameter: integer ms in (0, max]; absent → max. */
function blockingWait(timeout: string | undefined, maxWaitMs: number): number {
  if (timeout === undefined) return maxWaitMs;
  const value = Number(timeout);
  if (!/^\d+$/.test(timeout) || value <= 0 || value > maxWaitMs)
    throw apiError('GUST_ERR_REQUEST_BAD_TIMEOUT', maxWaitMs);
  return value;
}
