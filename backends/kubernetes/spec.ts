// Pure builders between Gust's ContainerSpec/ContainerInfo and Kubernetes Pods: deterministic
// names, labels, resources from the action's memory, and the two addressing modes.
//   pod network  (a real cluster): the runtime listens on 8080, reached at podIP:8080.
//   host network (one dev node on loopback): each pod's runtime listens on a port Gust assigns
//                (`__OW_PORT`, `__OW_HOST=127.0.0.1`), reached at 127.0.0.1:<port>.
// In both, a pod of Gust's runtime image gets a per-pod secret that every /init and /run must carry
// (runtimes/nodejs/src/runtime-secret.ts). Only an init container holds it in its environment; it
// writes it to a memory-backed emptyDir mounted at /gust in the runtime container, whose runtime
// reads and deletes the file before any action code loads. So the secret is never in the action's
// environment or on its file system; it is in the pod's spec, which the action cannot read (no
// service account token) and Gust's controllers read from their pod watch.
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import { containerInfoFromLabels, containerLabels } from '../container-labels';

export type NetworkMode = 'pod' | 'host';

/** The one container of every Gust pod. */
export const RUNTIME_CONTAINER = 'runtime';
export const RUNTIME_PORT = 8080;
/** The init container that hands the runtime its secret, and what it uses. */
export const SECRET_CONTAINER = 'secret';
const SECRET_ENV = 'GUST_RUNTIME_SECRET';
const SECRET_VOLUME = 'gust';
const SECRET_MOUNT = '/gust';
const SECRET_FILE = `${SECRET_MOUNT}/secret`;

/** Annotations holding what labels cannot: Gust's exact labels, its container name, the port. */
export const ANNOTATIONS = {
  labels: 'io.gust.labels',
  name: 'io.gust.name',
  port: 'io.gust.port',
} as const;

export interface PodOptions {
  namespace: string;
  network: NetworkMode;
  /** Host network only: the port this pod's runtime listens on. */
  port?: number;
  imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always';
  terminationGraceSeconds: number;
  /**
   * The runtime's per-pod secret. Given only for Gust's runtime image (`spec.socketRuntime`): other
   * images (blackbox) serve OpenWhisk's protocol themselves and get none.
   */
  secret?: string;
}

/**
 * A DNS-1123 name that is stable for a Gust container name (`gust_pool_guest_hello_3`): lowercase,
 * `-` for anything else, and a hash of the original so names differing only in case or
 * punctuation stay apart.
 */
export function podName(containerName: string): string {
  const hash = createHash('sha256').update(containerName).digest('hex').slice(0, 10);
  const readable = containerName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return `${readable || 'gust'}-${hash}`;
}

/** Kubernetes label values: at most 63 of [A-Za-z0-9_.-], alphanumeric at both ends (or empty). */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)?$/.test(value);
}

/** Gust's labels that Kubernetes accepts as labels (the rest live only in the annotation). */
export function kubeLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([, value]) => isLabelValue(value)));
}

/** A label selector for the labels Kubernetes can select on; `matchesLabels` checks the rest. */
export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(kubeLabels(labels))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function gustLabels(pod: V1Pod): Record<string, string> {
  const raw = pod.metadata?.annotations?.[ANNOTATIONS.labels];
  if (raw === undefined) return { ...pod.metadata?.labels };
  try {
    return JSON.parse(raw) as Record<string, string>;
  } catch {
    return { ...pod.metadata?.labels };
  }
}

export function matchesLabels(pod: V1Pod, wanted: Record<string, string>): boolean {
  const labels = gustLabels(pod);
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

export function buildPod(spec: ContainerSpec, hostId: string, options: PodOptions): V1Pod {
  const labels = containerLabels(spec, hostId);
  const host = options.network === 'host';
  if (host && options.port === undefined) throw new Error('buildPod: host network needs a port');
  const port = host ? options.port! : RUNTIME_PORT;
  const { secret } = options;
  const env = {
    ...spec.env,
    ...(host ? { __OW_PORT: String(port), __OW_HOST: '127.0.0.1' } : {}),
    ...(secret !== undefined ? { GUST_RUNTIME_SECRET_FILE: SECRET_FILE } : {}),
  };
  const memory = `${spec.memoryMB}Mi`;
  // Limit = request, no swap: going over is an OOM kill, as with docker.
  const resources = { requests: { memory }, limits: { memory } };
  const securityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['NET_RAW', 'NET_ADMIN'] },
  };
  const volumeMounts = secret !== undefined ? [{ name: SECRET_VOLUME, mountPath: SECRET_MOUNT }] : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(spec.name),
      namespace: options.namespace,
      labels: kubeLabels(labels),
      annotations: {
        [ANNOTATIONS.labels]: JSON.stringify(labels),
        [ANNOTATIONS.name]: spec.name,
        ...(host ? { [ANNOTATIONS.port]: String(port) } : {}),
      },
    },
    spec: {
      // A runtime that dies stays dead: Gust replaces containers, the kubelet does not restart them.
      restartPolicy: 'Never',
      hostNetwork: host,
      ...(host ? { dnsPolicy: 'Default' } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: options.terminationGraceSeconds,
      ...(secret !== undefined
        ? {
            volumes: [{ name: SECRET_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }],
            initContainers: [
              {
                name: SECRET_CONTAINER,
                image: spec.image,
                imagePullPolicy: options.imagePullPolicy,
                command: [
                  'node',
                  '-e',
                  `require('fs').writeFileSync('${SECRET_FILE}', process.env.${SECRET_ENV}, { mode: 0o600 })`,
                ],
                env: [{ name: SECRET_ENV, value: secret }],
                volumeMounts,
                resources,
                securityContext,
              },
            ],
          }
        : {}),
      containers: [
        {
          name: RUNTIME_CONTAINER,
          image: spec.image,
          imagePullPolicy: options.imagePullPolicy,
          env: Object.entries(env).map(([name, value]) => ({ name, value })),
          // On the host network the port is also a host port: the scheduler never puts two pods
          // with the same one on a node.
          ports: [{ name: 'action', containerPort: port, protocol: 'TCP' }],
          resources,
          securityContext,
          ...(volumeMounts ? { volumeMounts } : {}),
        },
      ],
    },
  };
}

/** Where the runtime of a pod is reached; '' until the pod network has given it an IP. */
export function podAddress(pod: V1Pod): string {
  const port = pod.metadata?.annotations?.[ANNOTATIONS.port];
  if (pod.spec?.hostNetwork && port !== undefined) return `http://127.0.0.1:${port}`;
  const ip = pod.status?.podIP;
  return ip ? `http://${ip}:${RUNTIME_PORT}` : '';
}

/** The per-pod runtime secret a pod was made with (in its init container's environment), if any. */
export function runtimeSecretOf(pod: V1Pod): string | undefined {
  const init = pod.spec?.initContainers?.find((c) => c.name === SECRET_CONTAINER);
  return init?.env?.find((e) => e.name === SECRET_ENV)?.value;
}

/** The host port a host-network pod holds, if any. */
export function podPort(pod: V1Pod): number | undefined {
  const port = pod.metadata?.annotations?.[ANNOTATIONS.port];
  return pod.spec?.hostNetwork && port !== undefined ? Number(port) : undefined;
}

export function containerInfoFromPod(pod: V1Pod): ContainerInfo {
  const labels = gustLabels(pod);
  const created = pod.metadata?.creationTimestamp;
  return containerInfoFromLabels(labels, {
    id: pod.metadata?.name ?? '',
    name: pod.metadata?.annotations?.[ANNOTATIONS.name] ?? pod.metadata?.name ?? '',
    backend: 'kubernetes',
    address: podAddress(pod),
    createdAt: created ? new Date(created).getTime() : Date.now(),
  });
}
