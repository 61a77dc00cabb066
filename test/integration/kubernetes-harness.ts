// What the Kubernetes tests share: the stack's cluster (`npm run stack -- start kubernetes`), an
// admin API client, a backend scoped to a host id of the test's own, and a way to restart the
// apiserver. Without the stack's kubeconfig the suites are skipped locally (they need ~8 min of
// first build); in CI (`CI=true`, where scripts/test.sh starts the cluster) they always run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import { KubernetesBackend, type KubernetesBackendOptions } from '../../backends/kubernetes/backend';
import { RuntimeClient } from '../../runtimes/runtime-client';

export const kubeConfigPath = loadConfig().kubernetes.kubeconfig;
export const kubernetesAvailable = process.env.CI === 'true' || existsSync(kubeConfigPath);
/**
 * `describe`, or `describe.skip` with a note when no cluster is set up here. Outside jest (the
 * fuzzer loads the e2e harness with plain node) there is no `describe`, and none is needed.
 */
export const describeKubernetes: jest.Describe =
  typeof describe === 'undefined' ? (undefined as never) : kubernetesAvailable ? describe : describe.skip;
// A note to whoever runs jest (shown against this file), not a log line.
if (!kubernetesAvailable)
  console.warn(`no ${kubeConfigPath}: Kubernetes tests skipped (npm run stack -- start kubernetes)`);

export const ACTIONS_NAMESPACE = loadConfig().kubernetes.namespace;

export function adminApi(): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromFile(kubeConfigPath);
  return config.makeApiClient(CoreV1Api);
}

export function testBackend(
  hostId: string,
  overrides: Partial<KubernetesBackendOptions> = {},
): KubernetesBackend {
  const { kubernetes } = loadConfig();
  return new KubernetesBackend({ ...kubernetes, hostId, readyTimeoutMs: 30_000, ...overrides });
}

/** A runtime client that sends each pod's secret, as the controller's does (from `backend()`). */
export function secretClient(backend: () => KubernetesBackend): RuntimeClient {
  return new RuntimeClient({ secrets: { runtimeSecret: (address) => backend().runtimeSecret(address) } });
}

/**
 * A backend of the suite's own host id (call inside a describe): made and checked healthy before
 * the suite; after it, what is left is destroyed and no pod of the host id may remain in any state.
 */
export function suiteBackend(hostId: string, client: RuntimeClient): () => KubernetesBackend {
  let backend: KubernetesBackend | undefined;
  beforeAll(async () => {
    backend = testBackend(hostId);
    await backend.health();
  });
  afterAll(async () => {
    for (const container of (await backend?.list({})) ?? []) await backend!.destroy(container.id);
    expect(await podsOfHost(adminApi(), hostId)).toEqual([]);
    await client.closeAll();
    await backend?.close();
  });
  return () => backend!;
}

/** Every pod of the namespace carrying this host id, whatever its state (the leak check). */
export async function podsOfHost(api: CoreV1Api, hostId: string): Promise<V1Pod[]> {
  const list = await api.listNamespacedPod({
    namespace: ACTIONS_NAMESPACE,
    labelSelector: `${LABELS.managed}=true,${LABELS.host}=${hostId}`,
  });
  return list.items;
}

/**
 * Kills the stack's kube-apiserver (SIGKILL: a crash; a graceful stop waits up to a minute for
 * open watches) and starts it again through the stack script.
 */
export function restartApiserver(): void {
  const stateDir = join(loadConfig().stateDir, 'kubernetes');
  const pid = Number(readFileSync(join(stateDir, 'kube-apiserver.pid'), 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    execFileSync('sleep', ['0.1']);
  }
  execFileSync('bash', ['scripts/stack/stack.sh', 'start', 'kubernetes'], { stdio: 'inherit' });
}
