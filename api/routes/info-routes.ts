// Unauthenticated info endpoints: GET / (limits and runtimes) and GET /api/v1
// (docs/reference/openwhisk-contract.md §1.4).
import type { FastifyInstance } from 'fastify';
import { ACTION_LIMITS } from '../action-limits';
import type { ApiContext } from '../api-context';
import { RUNTIME_MANIFEST } from '../runtimes';
import { ANY_OBJECT } from '../schemas';

const MB = 1024 * 1024;

export async function infoRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { controller } = ctx.config;
  const rootInfo = {
    description: 'OpenWhisk',
    support: { github: 'https://github.com/apache/openwhisk/issues', slack: 'http://slack.openwhisk.org' },
    api_paths: ['/api/v1'],
    limits: {
      actions_per_minute: controller.invocationsPerMinute,
      triggers_per_minute: controller.firesPerMinute,
      concurrent_actions: controller.concurrentInvocations,
      sequence_length: 50,
      min_action_duration: ACTION_LIMITS.timeout.min,
      max_action_duration: ACTION_LIMITS.timeout.max,
      default_action_duration: ACTION_LIMITS.timeout.default,
      min_action_memory: ACTION_LIMITS.memory.min * MB,
      max_action_memory: ACTION_LIMITS.memory.max * MB,
      default_action_memory: ACTION_LIMITS.memory.default * MB,
      min_action_logs: ACTION_LIMITS.logs.min * MB,
      max_action_logs: ACTION_LIMITS.logs.max * MB,
      default_action_logs: ACTION_LIMITS.logs.default * MB,
      min_action_concurrency: ACTION_LIMITS.concurrency.min,
      max_action_concurrency: ACTION_LIMITS.concurrency.max,
      default_action_concurrency: ACTION_LIMITS.concurrency.default,
    },
    runtimes: RUNTIME_MANIFEST.runtimes,
  };
  const apiInfo = {
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: 'gust',
    buildno: '0.1.0',
    swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
  };
  app.get('/', { schema: { response: { 200: ANY_OBJECT } } }, async () => rootInfo);
  app.get('/api/v1', { schema: { response: { 200: ANY_OBJECT } } }, async () => apiInfo);
}
