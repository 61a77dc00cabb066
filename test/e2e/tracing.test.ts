// OpenTelemetry tracing (GUST_OTEL=memory) across the cold path: a whole Gust (harness.ts: Temporal,
// dockerd, a real runtime container), a cold action invoked through the official `openwhisk`
// client, and the spans it leaves read from the in-memory exporter. One trace must link the
// controller's request span, the Temporal client call it made, the action pool workflow's spans
// and the activity that made the container, parent by parent.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { tracing } from '../../common/tracing';
import type { GustUnderTest } from './harness';
import { startGust } from './harness';
import { runId } from '../run-names';

jest.setTimeout(120_000);

let gust: GustUnderTest;

beforeAll(async () => {
  // No stem cells: the first invoke of an action asks its pool workflow for a container.
  gust = await startGust({
    store: 'sqlite',
    observability: { tracing: 'memory' },
    pools: { stemCells: [] },
    controller: { provisionTimeoutMs: 60_000 },
  });
});
afterAll(() => gust?.stop());

const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

/** The span's ancestors in `spans`, nearest first, up to the first parent not among them. */
function ancestors(span: ReadableSpan, spans: ReadableSpan[]): ReadableSpan[] {
  const out: ReadableSpan[] = [];
  for (let at = span; at.parentSpanId !== undefined;) {
    const parent = spans.find((s) => idOf(s) === at.parentSpanId);
    if (!parent) break;
    out.push(parent);
    at = parent;
  }
  return out;
}

async function eventually<T>(find: () => T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('not found in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('one trace links the request, the pool workflow and the container activity', async () => {
  const traces = tracing();
  expect(traces).toBeDefined();
  const ow = gust.client();
  const name = `traced-${runId()}`;
  await ow.actions.create({
    name,
    action: { exec: { kind: 'nodejs:20', code: 'function main(p) { return { n: p.n }; }' } },
  });
  const activation = await ow.actions.invoke({ name, blocking: true, params: { n: 1 } });
  expect(activation.response?.result).toEqual({ n: 1 });

  // The request span ends once the response is sent; workflow spans come through the worker's sink.
  const request = await eventually(() =>
    traces!.finishedSpans().find((s) => s.attributes['gust.activation_id'] === activation.activationId),
  );
  const traceId = request.spanContext().traceId;
  const inTrace = (): ReadableSpan[] =>
    traces!.finishedSpans().filter((s) => s.spanContext().traceId === traceId);
  // Knative has no pool: its service workflow applies the action's Knative Service instead, and
  // the controller calls the gateway, not a container.
  const made = gust.knative
    ? [await eventually(() => inTrace().find((s) => s.name.startsWith('RunActivity:')))]
    : await Promise.all(
        ['RunActivity:placeContainer', 'RunActivity:createContainer'].map((activity) =>
          eventually(() => inTrace().find((s) => s.name === activity)),
        ),
      );
  const spans = inTrace();
  const tree = spans.map((s) => `${s.name} ${idOf(s)} <- ${s.parentSpanId ?? '-'}`).join('\n');

  expect(request.name).toMatch(/^POST \/api\/v1\/namespaces\/.*actions/);
  expect(request.parentSpanId).toBeUndefined();
  expect(request.attributes['http.response.status_code']).toBe(200);
  expect(request.attributes['gust.action']).toContain(name);
  // The container's /run is a child of the request.
  if (!gust.knative) {
    const run = spans.find((s) => s.name === 'container /run');
    expect({ run: run?.parentSpanId, tree }).toEqual({ run: idOf(request), tree });
  }

  // The controller's Temporal call (a signal-with-start of the action's pool workflow, or the
  // requestContainers update-with-start) is a child of the request, and the workflow's handler of
  // it a child of that call: the context crossed into the workflow.
  const call = spans.find((s) =>
    /^(SignalWithStartWorkflow|StartUpdateWithStart|SignalWorkflow):/.test(s.name),
  );
  expect({ call: call && ancestors(call, spans).map((s) => s.name), tree }).toEqual({
    call: [request.name],
    tree,
  });
  const handler = spans.find((s) => s.parentSpanId === idOf(call!) && /^Handle(Signal|Update):/.test(s.name));
  expect({ handler: handler?.name, tree }).toEqual({ handler: expect.any(String), tree });
  // The workflow placed and created the container (or applied the Knative Service): each activity
  // run is a child of the workflow's StartActivity span, in this same trace (rooted in the request).
  for (const run of made) {
    const [start] = ancestors(run, inTrace());
    expect({ start: start?.name, tree }).toEqual({
      start: run.name.replace('RunActivity', 'StartActivity'),
      tree,
    });
  }
});
