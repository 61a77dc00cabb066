// Pure parts of the kubernetes backend: pod names, labels Kubernetes accepts, the pod spec in both
// addressing modes, and how merged pod logs are given a stream.
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../common/names';
import { ACTIVATION_LOG_SENTINEL } from '../../backends/logs/activation-log-collector';
import { MergedStreamLabeller } from '../../backends/kubernetes/pod-logs';
import {
  buildPod,
  containerInfoFromPod,
  isLabelValue,
  labelSelector,
  matchesLabels,
  podName,
  runtimeSecretOf,
} from '../../backends/kubernetes/spec';

const spec = {
  name: 'gust_pool_guest_Hello World_3',
  image: 'gust/action-nodejs:20',
  kind: 'nodejs:20',
  memoryMB: 256,
  env: { __OW_ALLOW_CONCURRENT: 'true' },
  labels: { [LABELS.owner]: 'pool/guest/Hello World', [LABELS.action]: 'hello' },
};
const options = {
  namespace: 'gust-actions',
  imagePullPolicy: 'Never' as const,
  terminationGraceSeconds: 1,
};

test('pod names are DNS-1123, stable, and keep names apart that differ only in case', () => {
  const name = podName(spec.name);
  expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  expect(name.length).toBeLessThanOrEqual(63);
  expect(podName(spec.name)).toBe(name);
  expect(podName('gust_A_1')).not.toBe(podName('gust_a_1'));
  expect(podName('x'.repeat(300)).length).toBeLessThanOrEqual(63);
});

test('label values Kubernetes refuses stay out of labels and selectors but match exactly', () => {
  expect(isLabelValue('nodejs:20')).toBe(false);
  expect(isLabelValue('pool/guest/a')).toBe(false);
  expect(isLabelValue('cluster.kubernetes')).toBe(true);
  expect(labelSelector({ a: 'x', b: 'nodejs:20' })).toBe('a=x');
  const pod = buildPod(spec, 'cluster.k', { ...options, network: 'pod' });
  expect(pod.metadata?.labels).toEqual({
    [LABELS.action]: 'hello',
    [LABELS.managed]: 'true',
    [LABELS.host]: 'cluster.k',
    [LABELS.memory]: '256',
  });
  expect(matchesLabels(pod, { [LABELS.owner]: 'pool/guest/Hello World', [LABELS.kind]: 'nodejs:20' })).toBe(
    true,
  );
  expect(matchesLabels(pod, { [LABELS.owner]: 'pool/guest/other' })).toBe(false);
});

test('pod network: port 8080, reached at the pod IP; memory request = limit', () => {
  const pod = buildPod(spec, 'cluster.k', { ...options, network: 'pod' });
  const container = pod.spec!.containers[0]!;
  expect(pod.spec).toMatchObject({
    hostNetwork: false,
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
  });
  expect(container).toMatchObject({
    image: 'gust/action-nodejs:20',
    imagePullPolicy: 'Never',
    ports: [{ containerPort: 8080 }],
    resources: { requests: { memory: '256Mi' }, limits: { memory: '256Mi' } },
    env: [{ name: '__OW_ALLOW_CONCURRENT', value: 'true' }],
  });
  const running: V1Pod = { ...pod, status: { podIP: '10.1.2.3' } };
  expect(containerInfoFromPod(running)).toMatchObject({
    id: podName(spec.name),
    name: spec.name,
    address: 'http://10.1.2.3:8080',
    host: 'cluster.k',
    kind: 'nodejs:20',
    memoryMB: 256,
    backend: 'kubernetes',
  });
});

test('host network: the runtime listens on 127.0.0.1 at the port Gust assigned', () => {
  const pod = buildPod(spec, 'cluster.k', { ...options, network: 'host', port: 21007 });
  expect(pod.spec?.hostNetwork).toBe(true);
  expect(pod.spec?.containers[0]?.env).toEqual(
    expect.arrayContaining([
      { name: '__OW_PORT', value: '21007' },
      { name: '__OW_HOST', value: '127.0.0.1' },
    ]),
  );
  expect(pod.spec?.containers[0]?.ports).toEqual([{ name: 'action', containerPort: 21007, protocol: 'TCP' }]);
  expect(containerInfoFromPod(pod).address).toBe('http://127.0.0.1:21007');
  expect(() => buildPod(spec, 'cluster.k', { ...options, network: 'host' })).toThrow(/port/);
});

test.each(['pod', 'host'] as const)(
  "%s network: the secret is only in the init container, which writes it to the runtime's memory volume",
  (network) => {
    const secret = 'S'.repeat(43);
    const pod = buildPod(spec, 'cluster.k', { ...options, network, port: 21007, secret });
    const [init] = pod.spec!.initContainers!;
    const runtime = pod.spec!.containers[0]!;
    expect(runtimeSecretOf(pod)).toBe(secret);
    expect(init).toMatchObject({
      name: 'secret',
      image: spec.image,
      env: [{ name: 'GUST_RUNTIME_SECRET', value: secret }],
      volumeMounts: [{ name: 'gust', mountPath: '/gust' }],
      resources: runtime.resources,
    });
    expect(pod.spec?.volumes).toEqual([{ name: 'gust', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }]);
    expect(runtime.volumeMounts).toEqual([{ name: 'gust', mountPath: '/gust' }]);
    expect(runtime.env).toContainEqual({ name: 'GUST_RUNTIME_SECRET_FILE', value: '/gust/secret' });
    expect(JSON.stringify(runtime)).not.toContain(secret);
    // Without a secret (images that serve the protocol themselves): no init container, no volume.
    const plain = buildPod(spec, 'cluster.k', { ...options, network, port: 21007 });
    expect(plain.spec?.initContainers).toBeUndefined();
    expect(plain.spec?.volumes).toBeUndefined();
    expect(runtimeSecretOf(plain)).toBeUndefined();
  },
);

test('merged pod logs: stdout up to the first sentinel of an activation, stderr up to the second', () => {
  const labeller = new MergedStreamLabeller();
  const streams = [
    'a',
    ACTIVATION_LOG_SENTINEL,
    'b',
    ACTIVATION_LOG_SENTINEL,
    'c',
    `d${ACTIVATION_LOG_SENTINEL}`,
    ACTIVATION_LOG_SENTINEL,
  ].map((text) => labeller.label(text));
  expect(streams).toEqual(['stdout', 'stdout', 'stderr', 'stderr', 'stdout', 'stdout', 'stderr']);
});
