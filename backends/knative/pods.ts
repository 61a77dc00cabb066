// What the controller reads of the pods Knative made, through the Kubernetes API: one pod's log
// (`pods/log`, the activation sentinels as on the Kubernetes backend) and whether a Service's pod
// was OOM-killed (its gateway only says the connection broke). Knative's public pod label
// (serving.knative.dev/service) and the revision's container name are all it relies on.
import { CoreV1Api, KubeConfig, type V1ContainerStatus } from '@kubernetes/client-node';
import type { ActivationLogReader } from '../backend';
import { followPodLogs } from '../kubernetes/pod-logs';
import { SERVICE_LABEL, USER_CONTAINER } from './service-spec';

export interface KnativePodsOptions {
  /** A kubeconfig file; '' for the in-cluster service account. */
  kubeconfig: string;
  namespace: string;
}

const POLL_MS = 250;

/** When the user container was last killed for memory (its current or previous run), in ms. */
function oomKilledAt(status: V1ContainerStatus | undefined): number | undefined {
  for (const state of [status?.state?.terminated, status?.lastState?.terminated]) {
    if (state?.reason === 'OOMKilled')
      return state.finishedAt ? new Date(state.finishedAt).getTime() : Date.now();
  }
  return undefined;
}

export class KnativePods {
  readonly #config = new KubeConfig();
  readonly #core: CoreV1Api;
  readonly #namespace: string;

  constructor(options: KnativePodsOptions) {
    if (options.kubeconfig) this.#config.loadFromFile(options.kubeconfig);
    else this.#config.loadFromCluster();
    this.#core = this.#config.makeApiClient(CoreV1Api);
    this.#namespace = options.namespace;
  }

  /** Follows the pod's log from its start (the caller closes the reader). */
  logs(pod: string): ActivationLogReader {
    return followPodLogs(this.#config, this.#namespace, pod, USER_CONTAINER);
  }

  /**
   * True when a pod of the Service was OOM-killed at or after `sinceMs` (whole seconds: the
   * kubelet's precision). Waits up to `awaitMs` for the kill to reach the apiserver (a PLEG relist
   * and a status sync after the kernel's kill).
   */
  async oomKilled(service: string, sinceMs: number, awaitMs: number): Promise<boolean> {
    const deadline = Date.now() + awaitMs;
    const since = Math.floor(sinceMs / 1000) * 1000;
    for (;;) {
      const pods = await this.#core.listNamespacedPod({
        namespace: this.#namespace,
        labelSelector: `${SERVICE_LABEL}=${service}`,
      });
      const killed = pods.items.some((pod) => {
        const status = pod.status?.containerStatuses?.find((s) => s.name === USER_CONTAINER);
        const at = oomKilledAt(status);
        return at !== undefined && at >= since;
      });
      if (killed) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
