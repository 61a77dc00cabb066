// What the Knative tests share: a Kubernetes namespace of their own on the stack's cluster (so
// test runs beside each other never see each other's Services or pods), the Knative Serving
// SIMULATOR (serving-simulator.ts) reconciling that namespace, and the leak check.
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { SERVING } from '../../backends/knative/service-spec';
import { kubeConfigPath } from '../integration/kubernetes-harness';
import { KnativeServingSimulator, type KnativeServingSimulatorOptions } from './serving-simulator';

export { describeKubernetes as describeKnative } from '../integration/kubernetes-harness';
export const kubeconfig = kubeConfigPath;

export interface KnativeTestCluster {
  namespace: string;
  simulator: KnativeServingSimulator;
  core: CoreV1Api;
  objects: CustomObjectsApi;
  /** Pods of the namespace (the simulator's revisions). */
  pods(): Promise<V1Pod[]>;
  /** Knative Services of the namespace. */
  services(): Promise<{ metadata: { name: string } }[]>;
  close(): Promise<void>;
}

/** Creates namespace `gust-kn-<tag>-<pid>` and starts a simulator on it. */
export async function startKnativeTestCluster(
  tag: string,
  options: Partial<KnativeServingSimulatorOptions> = {},
): Promise<KnativeTestCluster> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const objects = config.makeApiClient(CustomObjectsApi);
  const namespace = `gust-kn-${tag}-${process.pid}`;
  try {
    await core.createNamespace({
      body: { metadata: { name: namespace, labels: { 'io.gust.test': 'knative' } } },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const simulator = new KnativeServingSimulator({ kubeconfig, namespace, ...options });
  const cluster: KnativeTestCluster = {
    namespace,
    simulator,
    core,
    objects,
    pods: async () => (await core.listNamespacedPod({ namespace })).items,
    services: async () =>
      (
        (await objects.listNamespacedCustomObject({ ...SERVING, namespace })) as {
          items: { metadata: { name: string } }[];
        }
      ).items,
    // This cluster has no kube-controller-manager to empty a deleted namespace: the simulator
    // removes its pods, this removes the Services and ConfigMaps, then finalizes the namespace.
    async close() {
      await simulator.stop();
      await objects.deleteCollectionNamespacedCustomObject({ ...SERVING, namespace }).catch(() => undefined);
      await core.deleteCollectionNamespacedConfigMap({ namespace }).catch(() => undefined);
      await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await core
        .replaceNamespaceFinalize({
          name: namespace,
          body: { metadata: { name: namespace }, spec: { finalizers: [] } },
        })
        .catch(() => undefined);
    },
  };
  try {
    await simulator.start();
  } catch (err) {
    await cluster.close(); // leave no namespace behind when the simulator cannot start
    throw err;
  }
  return cluster;
}

/** Polls `probe` until it returns something other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
