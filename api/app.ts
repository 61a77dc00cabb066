// The controller's HTTP app: OpenWhisk's REST API under /api/v1, built from encapsulated plugins.
// Never listens; workers/ do. Tests drive it with `app.inject()` or a listener on 127.0.0.1:0.
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { GustConfig } from '../common/config';
import type { ProcessMetrics } from '../common/metrics';
import type { ActivationStore } from '../store/activation-store';
import type { EntityStore } from '../store/entity-store';
import { SIZE_LIMITS } from './action-limits';
import type { ActivationWriter } from './activation-writer';
import type { ApiContext } from './api-context';
import { registerApiDocs } from './api-docs';
import { prepareAuthKeys } from './auth-bootstrap';
import { makeAuthenticateHook } from './authenticate';
import type { Authenticator } from './authenticator';
import type { AlarmFeeds } from './catalog/alarm-feeds';
import { seedSystemCatalog } from './catalog/system-catalog';
import { CompositionStarter } from './compositions/composition-starter';
import { TriggerFiring } from './compositions/trigger-fire';
import { EntityCache } from './entity-cache';
import httpConventions from './http-conventions';
import { boundedServerFactory } from './http-server';
import { ActivationStarter } from './invoke/activation-starter';
import { ActionKeys, masterKeyOf } from './action-keys';
import type { Invoker } from './invoke/invoker';
import type { InvokeObserver } from './invoke/observer';
import requestLog from './request-log';
import { tracing } from '../common/tracing';
import { NamespaceThrottles } from './namespace-throttles';
import './request-context';
import { actionRoutes } from './routes/action-routes';
import { activationRoutes } from './routes/activation-routes';
import { infoRoutes } from './routes/info-routes';
import { invokeRoutes } from './routes/invoke-routes';
import { namespaceRoutes } from './routes/namespace-routes';
import { packageRoutes } from './routes/package-routes';
import { OwnerIdentities } from './owner-identities';
import { ruleRoutes } from './routes/rule-routes';
import { webRoutes } from './routes/web-routes';
import { triggerRoutes } from './routes/trigger-routes';
import { transactionIdFor } from './transaction-id';

export interface AppDeps {
  config: GustConfig;
  entities: EntityStore;
  activations: ActivationStore;
  writer: ActivationWriter;
  invoker: Invoker;
  auth: Authenticator;
  /** Shared with other parts of the controller that must see entity changes; created if absent. */
  entityCache?: EntityCache;
  /** The controller's logger (common/logger.ts), or true/false for Fastify's own; off if absent. */
  logger?: FastifyBaseLogger | boolean;
  /** The native alarms feed (Temporal Schedules); without it the alarms feed actions answer an error. */
  alarms?: AlarmFeeds;
  /** Told about refusals and ended activations (api/controller-metrics.ts). */
  observe?: InvokeObserver;
  /** Served at GET /metrics (Prometheus text), outside the authenticated API. */
  metrics?: Pick<ProcessMetrics, 'scrape'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The services the routes share (the controller's alarm worker fires through them). */
    gust: ApiContext;
  }
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: typeof deps.logger === 'object' ? deps.logger : undefined,
    logger: typeof deps.logger === 'boolean' ? deps.logger : undefined,
    bodyLimit: SIZE_LIMITS.requestBody,
    genReqId: (request) => transactionIdFor(request.headers['x-request-id']),
    // Query values stay strings so list parameters get OpenWhisk's own messages; bodies are not coerced.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    return503OnClosing: true,
    // One line per request, with its activation id, instead of Fastify's two (api/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // Entity names may be 256 characters (Fastify answers 414 above its default of 100).
    routerOptions: { maxParamLength: 1024 },
    serverFactory: boundedServerFactory({
      requestTimeoutMs: deps.config.controller.requestTimeoutMs,
      idleTimeoutMs: deps.config.controller.blockingWaitMs + 30_000,
      maxConnections: deps.config.controller.maxConnections,
    }),
  });

  const throttles = new NamespaceThrottles({
    invocationsPerMinute: deps.config.controller.invocationsPerMinute,
    concurrentInvocations: deps.config.controller.concurrentInvocations,
  });
  const entities = deps.entityCache ?? new EntityCache(deps.entities);
  const starter = new ActivationStarter({
    invoker: deps.invoker,
    writer: deps.writer,
    throttles,
    log: app.log,
    observe: deps.observe,
  });
  const onError = (message: string, error: unknown): void => app.log.error({ err: error }, message);
  const { production, keyEncryptionKey } = deps.config.controller;
  const masterKey = masterKeyOf(keyEncryptionKey, production);
  const keys = new ActionKeys(deps.entities, masterKey, {
    onError: (error) => onError('reading the API key for an action failed', error),
  });
  const alarms = deps.alarms;
  const compositions = new CompositionStarter({
    entities,
    builtins: alarms && {
      'whisk.system/alarms/alarm': (params, identity) => alarms.handle('alarm', params, identity),
      'whisk.system/alarms/interval': (params, identity) => alarms.handle('interval', params, identity),
      'whisk.system/alarms/once': (params, identity) => alarms.handle('once', params, identity),
    },
    activations: starter,
    writer: deps.writer,
    keys,
    onError,
  });
  const ctx: ApiContext = {
    config: deps.config,
    entities,
    activations: deps.activations,
    writer: deps.writer,
    throttles,
    auth: deps.auth,
    starter,
    compositions,
    fireThrottles: new NamespaceThrottles({
      invocationsPerMinute: deps.config.controller.firesPerMinute,
      concurrentInvocations: Number.MAX_SAFE_INTEGER,
    }),
    firing: new TriggerFiring({ entities, starter: compositions, throttles, writer: deps.writer, onError }),
    alarms,
    invoker: deps.invoker,
  };
  app.decorate('gust', ctx);
  // After the last request has been answered, and before the controller closes its writer: every
  // activation still running (non-blocking, 202'd, a sequence's next step) gets its record.
  app.addHook('onClose', async () => {
    const abandoned = await starter.settle(deps.config.controller.shutdownGraceMs);
    if (abandoned > 0)
      app.log.warn({ abandoned }, 'activations still running at stop were recorded as whisk errors');
  });

  app.decorateRequest('identity', null);
  app.decorateRequest('namespace', '');
  app.addHook('onReady', () => prepareAuthKeys(deps.entities, { production, masterKey }));
  app.addHook('onReady', async () => {
    await seedSystemCatalog(deps.entities);
  });

  void app.register(httpConventions);
  registerApiDocs(app);
  if (deps.config.observability.requestLog) void app.register(requestLog);
  const traces = tracing();
  if (traces) void app.register(traces.requestSpans);
  const { metrics } = deps;
  if (metrics) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    });
  }
  void app.register(infoRoutes, ctx);
  app.options('/*', { schema: { hide: true } }, async (_request, reply) => reply.code(200).send());
  void app.register(webRoutes, { ...ctx, owners: new OwnerIdentities(deps.entities), prefix: '/api/v1/web' });
  void app.register(
    async (api) => {
      api.addHook('onRequest', makeAuthenticateHook(deps.auth));
      void api.register(namespaceRoutes, ctx);
      void api.register(actionRoutes, { ...ctx, prefix: '/namespaces/:namespace/actions' });
      void api.register(invokeRoutes, { ...ctx, prefix: '/namespaces/:namespace/actions' });
      void api.register(activationRoutes, { ...ctx, prefix: '/namespaces/:namespace/activations' });
      void api.register(packageRoutes, { ...ctx, prefix: '/namespaces/:namespace/packages' });
      void api.register(triggerRoutes, { ...ctx, prefix: '/namespaces/:namespace/triggers' });
      void api.register(ruleRoutes, { ...ctx, prefix: '/namespaces/:namespace/rules' });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
