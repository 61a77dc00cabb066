// GET /api/v1/namespaces (exactly the caller's) and GET /api/v1/namespaces/:namespace/limits.
import type { FastifyInstance } from 'fastify';
import { ACTION_LIMITS } from '../action-limits';
import type { ApiContext } from '../api-context';
import { callerOf } from '../request-context';
import { NAMESPACE_PARAMS } from '../schemas';

export async function namespaceRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    '/namespaces',
    { schema: { response: { 200: { type: 'array', items: { type: 'string' } } } } },
    async (request) => [callerOf(request).namespace],
  );

  app.get(
    '/namespaces/:namespace/limits',
    {
      schema: { params: NAMESPACE_PARAMS, response: { 200: { type: 'object', additionalProperties: true } } },
    },
    async () => ({
      invocationsPerMinute: ctx.config.controller.invocationsPerMinute,
      concurrentInvocations: ctx.config.controller.concurrentInvocations,
      firesPerMinute: ctx.config.controller.firesPerMinute,
      minActionMemory: ACTION_LIMITS.memory.min,
      maxActionMemory: ACTION_LIMITS.memory.max,
      minActionLogs: ACTION_LIMITS.logs.min,
      maxActionLogs: ACTION_LIMITS.logs.max,
      minActionTimeout: ACTION_LIMITS.timeout.min,
      maxActionTimeout: ACTION_LIMITS.timeout.max,
      minActionConcurrency: ACTION_LIMITS.concurrency.min,
      maxActionConcurrency: ACTION_LIMITS.concurrency.max,
      maxParameterSize: '1 MB',
    }),
  );
}
