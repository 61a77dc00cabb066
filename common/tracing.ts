// Optional OpenTelemetry tracing (GUST_OTEL, off by default): one trace from the controller's
// request through the Temporal client calls it makes, the workflows they reach and the activities
// those run. Off, nothing of OpenTelemetry is loaded (the modules are imported only by
// installTracing) and every hook below is skipped.
//
// Public surface:
//   installTracing(config): Promise<Tracing | undefined>  once per process, before any Client,
//                                                          bundle or Worker is made (idempotent)
//   tracing(): Tracing | undefined                          the installed one (undefined: off)
//
// Composition points wire it: createTemporalClient (client interceptors), bundleControlPathWorkflows
// (the workflow interceptor module, in the one bundle), every Worker.create (activity interceptors
// and the sink that exports workflow spans), buildApp (a span per request), the controller's
// RuntimeClient (a child span per container /init and /run).
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { FastifyPluginAsync } from 'fastify';
import type { GustConfig } from './config';

export type TracingExporter = GustConfig['observability']['tracing'];

export interface Tracing {
  readonly tracer: Tracer;
  /** For every Temporal Client: starts, updates and signals carry the caller's trace context. */
  readonly clientInterceptors: ClientInterceptors;
  /** For every Worker: activity spans, and the sink through which workflow spans are exported. */
  readonly workerOptions: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Bundled into the workflow code (one bundle per process: bundleControlPathWorkflows). */
  readonly workflowInterceptorModules: string[];
  /** Fastify plugin: one span per request (route, action, activation id, status). */
  readonly requestSpans: FastifyPluginAsync;
  /** Runs `fn` in a new span, child of the active one; a rejection marks it failed. */
  inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T>;
  /** GUST_OTEL=memory: the spans ended so far (tests); [] otherwise. */
  finishedSpans(): ReadableSpan[];
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

let installed: Promise<Tracing | undefined> | undefined;
let current: Tracing | undefined;

export function tracing(): Tracing | undefined {
  return current;
}

export function installTracing(config: Pick<GustConfig, 'observability'>): Promise<Tracing | undefined> {
  if (config.observability.tracing === 'off') return Promise.resolve(current);
  installed ??= buildTracing(config.observability.tracing).then((t) => (current = t));
  return installed;
}

async function buildTracing(exporter: Exclude<TracingExporter, 'off'>): Promise<Tracing> {
  const otel = await import('@opentelemetry/api');
  const sdk = await import('@opentelemetry/sdk-trace-base');
  const { Resource } = await import('@opentelemetry/resources');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const temporal = await import('@temporalio/interceptors-opentelemetry');

  const resource = new Resource({ 'service.name': 'gust' });
  const memory = exporter === 'memory' ? new sdk.InMemorySpanExporter() : undefined;
  let processor: SpanProcessor;
  if (exporter === 'otlp') {
    // Endpoint and headers from the standard OTEL_EXPORTER_OTLP_* variables.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new sdk.BatchSpanProcessor(new OTLPTraceExporter());
  } else {
    processor = new sdk.SimpleSpanProcessor(memory ?? new sdk.ConsoleSpanExporter());
  }
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracer = otel.trace.getTracer('gust');

  const inSpan = <T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> =>
    tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: otel.SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });

  const spans = new WeakMap<object, Span>();
  const requestSpans: FastifyPluginAsync = async (app) => {
    app.addHook('onRequest', (request, _reply, done) => {
      const route = request.routeOptions.url ?? 'unknown';
      spans.set(
        request,
        tracer.startSpan(`${request.method} ${route}`, {
          kind: otel.SpanKind.SERVER,
          attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url },
        }),
      );
      done();
    });
    // After the body is parsed: the handler and all it awaits run inside the request's span.
    app.addHook('preHandler', (request, _reply, done) => {
      const span = spans.get(request);
      if (!span) return done();
      const params = request.params as Record<string, string | undefined>;
      const action = params['actionName'] ?? params['name'] ?? params['*'];
      if (action !== undefined) span.setAttribute('gust.action', `${params['namespace'] ?? '_'}/${action}`);
      otel.context.with(otel.trace.setSpan(otel.context.active(), span), done);
    });
    app.addHook('onResponse', (request, reply, done) => {
      const span = spans.get(request);
      if (span) {
        const activationId = reply.getHeader('x-openwhisk-activation-id');
        if (typeof activationId === 'string') span.setAttribute('gust.activation_id', activationId);
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
        span.end();
      }
      done();
    });
  };
  // Not encapsulated: the hooks apply to every route of the app.
  (requestSpans as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

  return {
    tracer,
    clientInterceptors: { workflow: [new temporal.OpenTelemetryWorkflowClientInterceptor()] },
    workerOptions: {
      interceptors: {
        activity: [
          (ctx) => ({
            inbound: new temporal.OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new temporal.OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      sinks: { exporter: temporal.makeWorkflowExporter(processor, resource) },
    },
    workflowInterceptorModules: [
      require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
    ],
    requestSpans,
    inSpan,
    finishedSpans: () => memory?.getFinishedSpans() ?? [],
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Wraps `target[method]` (an own property, so private fields keep working) in a span per call
 * when tracing is on; `attributes` from the call's arguments.
 */
export function traceMethod<T extends object, K extends keyof T & string>(
  target: T,
  method: K,
  name: string,
  attributes: (...args: unknown[]) => Attributes = () => ({}),
): T {
  const on = current;
  const original = target[method];
  if (!on || typeof original !== 'function') return target;
  const call = original as (...args: unknown[]) => Promise<unknown>;
  (target as Record<string, unknown>)[method] = (...args: unknown[]) =>
    on.inSpan(name, attributes(...args), () => call.apply(target, args));
  return target;
}
