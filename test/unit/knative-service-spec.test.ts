// The Knative Service Gust writes for an action (limits mapping, init-on-start environment,
// large code through a ConfigMap) and how it reads readiness from a Service's status.
import {
  AUTOSCALING,
  CODE_MOUNT,
  INLINE_CODE_LIMIT,
  buildCodeConfigMap,
  buildService,
  readiness,
  serviceName,
  type KnativeService,
} from '../../backends/knative/service-spec';
import { testAction } from './fixtures';

const OPTIONS = {
  namespace: 'gust-actions',
  image: 'gust/action-nodejs:20',
  imagePullPolicy: 'Never' as const,
  apiHost: 'http://127.0.0.1:3233',
  minScale: 2,
  keepAliveMs: 600_000,
  maxScale: 5,
};

function container(service: KnativeService) {
  return (service.spec.template.spec.containers as Record<string, unknown>[])[0]!;
}
function env(service: KnativeService): Record<string, string> {
  const list = container(service).env as { name: string; value: string }[];
  return Object.fromEntries(list.map((e) => [e.name, e.value]));
}

describe('the Knative Service of an action', () => {
  const action = testAction(
    { namespace: 'guest/pkg', name: 'Hello_World', version: '0.0.3' },
    { timeout: 1500, memory: 128, concurrency: 4 },
  );

  it('has a DNS-1035 name, stable per action and apart for names differing only in case', () => {
    const name = serviceName('guest/pkg', 'Hello_World');
    expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(serviceName('guest/pkg', 'Hello_World')).toBe(name);
    expect(serviceName('guest/pkg', 'hello_world')).not.toBe(name);
    expect(serviceName('9ns', 'x'.repeat(200)).length).toBeLessThanOrEqual(63);
    expect(serviceName('9ns', 'x')).toMatch(/^[a-z]/);
  });

  it('another namespace’s runs get a Service of their own, whose pods say that namespace (audit L9)', () => {
    const own = buildService(action, OPTIONS);
    const alice = buildService(action, { ...OPTIONS, invoker: 'alice' });
    expect(own.metadata.name).toBe(serviceName('guest/pkg', 'Hello_World'));
    expect(alice.metadata.name).toBe(serviceName('guest/pkg', 'Hello_World', 'alice'));
    expect(alice.metadata.name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(
      new Set([own, alice, buildService(action, { ...OPTIONS, invoker: 'bob' })].map((s) => s.metadata.name))
        .size,
    ).toBe(3);
    expect(env(own).__OW_NAMESPACE).toBe('guest');
    expect(env(alice).__OW_NAMESPACE).toBe('alice');
    expect(alice.metadata.annotations).toMatchObject({
      'io.gust.action': 'guest/pkg/Hello_World',
      'io.gust.invoker': 'alice',
    });
    expect(own.metadata.annotations).not.toHaveProperty('io.gust.invoker');
  });

  it('maps concurrency, timeout, memory, minimum containers and keep-alive to Knative', () => {
    const service = buildService(action, OPTIONS);
    expect(service.apiVersion).toBe('serving.knative.dev/v1');
    expect(service.kind).toBe('Service');
    const { spec, metadata } = service.spec.template;
    expect(spec.containerConcurrency).toBe(4);
    expect(spec.timeoutSeconds).toBe(2); // 1500 ms, rounded up
    expect(container(service).resources).toEqual({
      requests: { memory: '128Mi' },
      limits: { memory: '128Mi' },
    });
    expect(metadata?.annotations).toMatchObject({
      [AUTOSCALING.minScale]: '2',
      [AUTOSCALING.maxScale]: '5',
      [AUTOSCALING.retention]: '600s',
    });
    expect(container(service).image).toBe('gust/action-nodejs:20');
    expect(container(service).imagePullPolicy).toBe('Never');
  });

  it('hands the code to the runtime through the environment (init-on-start)', () => {
    expect(env(buildService(action, OPTIONS))).toEqual({
      __OW_ACTION_CODE: action.exec.code,
      __OW_ACTION_MAIN: 'main',
      __OW_ACTION_BINARY: 'false',
      __OW_NAMESPACE: 'guest',
      __OW_ACTION_NAME: '/guest/pkg/Hello_World',
      __OW_ACTION_VERSION: '0.0.3',
      __OW_API_HOST: 'http://127.0.0.1:3233',
      __OW_ALLOW_CONCURRENT: 'true',
    });
    const single = testAction({ namespace: 'guest', name: 'a', version: '1' });
    expect(env(buildService(single, OPTIONS)).__OW_ALLOW_CONCURRENT).toBeUndefined();
  });

  it('puts the init: true parameters in the environment, stringified as OpenWhisk does', () => {
    const withInit = {
      ...action,
      parameters: [
        { key: 'URL', value: 'https://example.invalid', init: true },
        { key: 'N', value: 3, init: true },
        { key: 'OBJ', value: { a: [1] }, init: true },
        { key: 'NONE', value: null, init: true },
        { key: 'plain', value: 'not in the environment' },
      ],
    };
    expect(env(buildService(withInit, OPTIONS))).toMatchObject({
      URL: 'https://example.invalid',
      N: '3',
      OBJ: '{"a":[1]}',
      NONE: '',
    });
    expect(env(buildService(withInit, OPTIONS)).plain).toBeUndefined();
  });

  it('mounts large code from a ConfigMap of that version', () => {
    const big = testAction({ namespace: 'guest', name: 'big', version: '0.0.9' });
    big.exec.code = 'x'.repeat(INLINE_CODE_LIMIT + 1);
    const service = buildService(big, OPTIONS);
    const map = buildCodeConfigMap(big, 'gust-actions');
    expect(env(service).__OW_ACTION_CODE).toBeUndefined();
    expect(env(service).GUST_ACTION_CODE_FILE).toBe(`${CODE_MOUNT}/code`);
    expect(service.spec.template.spec.volumes).toEqual([
      { name: 'action-code', configMap: { name: map.metadata!.name } },
    ]);
    expect(container(service).volumeMounts).toEqual([
      { name: 'action-code', mountPath: CODE_MOUNT, readOnly: true },
    ]);
    expect(map.data).toEqual({ code: big.exec.code });
  });
});

describe('readiness of a Service', () => {
  const base = (status: KnativeService['status']): KnativeService => ({
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 's', generation: 2 },
    spec: { template: { spec: {} } },
    status,
  });
  const ready = { type: 'Ready', status: 'True' as const };

  it('is ready only with the generation observed and the latest revision serving', () => {
    const status = {
      observedGeneration: 2,
      url: 'http://s.ns.example.com',
      latestCreatedRevisionName: 's-00002',
      latestReadyRevisionName: 's-00002',
      conditions: [ready],
    };
    expect(readiness(base(status), 2)).toEqual({
      state: 'ready',
      url: 'http://s.ns.example.com',
      host: 's.ns.example.com',
      revision: 's-00002',
    });
    expect(readiness(base({ ...status, observedGeneration: 1 }), 2).state).toBe('pending');
    expect(readiness(base({ ...status, latestReadyRevisionName: 's-00001' }), 2).state).toBe('pending');
  });

  it('reports the configuration failure of a revision that cannot start', () => {
    const status = {
      observedGeneration: 2,
      conditions: [
        {
          type: 'ConfigurationsReady',
          status: 'False' as const,
          reason: 'RevisionFailed',
          message: 'Revision "s-00002" failed with message: ErrImageNeverPull.',
        },
        { type: 'Ready', status: 'False' as const, reason: 'RevisionFailed' },
      ],
    };
    expect(readiness(base(status), 2)).toEqual({
      state: 'failed',
      message: 'RevisionFailed: Revision "s-00002" failed with message: ErrImageNeverPull.',
    });
  });
});
