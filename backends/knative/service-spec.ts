// Pure builders between Gust's actions and Knative Services (serving.knative.dev/v1): the name,
// the revision template with OpenWhisk's limits mapped to Knative's, init-on-start environment,
// and reading readiness from a Service's status. One Service per action and invoking namespace
// (audit L9: another namespace's runs of a shared action get a Service of their own, as they get
// containers of their own on the other backends); each action version is one generation of its
// spec, i.e. one revision.
//
// Limits mapping:
//   limits.concurrency → spec.template.spec.containerConcurrency
//   limits.timeout     → spec.template.spec.timeoutSeconds (rounded up to whole seconds)
//   limits.memory      → the container's memory request = limit
//   Gust's minimum containers (GUST_MIN_CONTAINERS) → autoscaling.knative.dev/min-scale
//   Gust's keep-alive (GUST_KEEP_ALIVE_MS)          → autoscaling.knative.dev/scale-to-zero-pod-retention-period
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1EnvVar } from '@kubernetes/client-node';
import { LABELS, actionPath, actionRevision, containerKeyPath, tenantOf } from '../../common/names';
import type { Action } from '../../common/types';
import { initEnvValue } from '../../common/init-parameters';
import { RUNTIME_SECRET_ENV, derivedRuntimeSecret } from '../runtime-secret-key';
import { POD_NAME_ENV } from '../../runtimes/nodejs/src/init-on-start';

export const SERVING = { group: 'serving.knative.dev', version: 'v1', plural: 'services' } as const;
export const AUTOSCALING = {
  minScale: 'autoscaling.knative.dev/min-scale',
  maxScale: 'autoscaling.knative.dev/max-scale',
  retention: 'autoscaling.knative.dev/scale-to-zero-pod-retention-period',
} as const;
/**
 * Annotations on Gust's Services: which action and revision (`actionRevision`) they serve, and for
 * which invoking namespace when it is not the action's own (audit L9).
 */
export const ANNOTATIONS = {
  action: 'io.gust.action',
  version: 'io.gust.version',
  invoker: 'io.gust.invoker',
} as const;
/** Where the code goes as a file when it is too large for an environment variable. */
export const CODE_MOUNT = '/var/run/gust-action';
/** Code longer than this goes through a ConfigMap (environment variables share ~1 MiB of argv space). */
export const INLINE_CODE_LIMIT = 32 * 1024;
/** The revision's one container (Knative's default name): its log is what `pods/log` reads. */
export const USER_CONTAINER = 'user-container';
/** Knative's label on every pod of a Service's revisions. */
export const SERVICE_LABEL = 'serving.knative.dev/service';

export interface KnativeService {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: Record<string, unknown>;
    };
  };
  status?: KnativeServiceStatus;
}

export interface KnativeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface KnativeServiceStatus {
  observedGeneration?: number;
  url?: string;
  address?: { url?: string };
  latestCreatedRevisionName?: string;
  latestReadyRevisionName?: string;
  traffic?: { revisionName?: string; percent?: number; latestRevision?: boolean }[];
  conditions?: KnativeCondition[];
}

export interface ServiceOptions {
  namespace: string;
  /** The action's runtime image (`gust/action-nodejs:20` or a blackbox image). */
  image: string;
  imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always';
  /** `__OW_API_HOST` for the action. */
  apiHost: string;
  /** Pods Knative keeps however idle (Gust's minimum containers for this action). */
  minScale: number;
  /** How long an idle revision keeps its last pod (Gust's keep-alive). */
  keepAliveMs: number;
  /** Upper bound of pods per revision; 0 = Knative's default (unbounded). */
  maxScale: number;
  /** The secret the pods' runtime wants on every call (backends/runtime-secret-key.ts). */
  runtimeSecret?: string;
  /** The invoking namespace the Service serves, when not the action's own (ActionRef.invoker). */
  invoker?: string;
}

/**
 * A DNS-1035 label (≤ 63, starts with a letter) stable for an action and invoking namespace
 * (`invoker`, when not the action's own: `containerKeyPath`): readable part + hash.
 */
export function serviceName(namespace: string, action: string, invoker?: string): string {
  const path = containerKeyPath({ namespace, name: action, invoker });
  const hash = createHash('sha256').update(path).digest('hex').slice(0, 8);
  const readable = path
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 45)
    .replace(/-+$/, '');
  return `${readable || 'action'}-${hash}`;
}

/** The secret of an action's pods: derived from its Service's name (backends/runtime-secret-key.ts). */
export const serviceRuntimeSecret = (
  key: string,
  namespace: string,
  action: string,
  invoker?: string,
): string => derivedRuntimeSecret(key, serviceName(namespace, action, invoker));

/** The ConfigMap holding large code (one per action revision, so a rollout never changes a running revision's code). */
export function codeConfigMapName(service: string, revision: string): string {
  return `${service}-code-${createHash('sha256').update(revision).digest('hex').slice(0, 8)}`;
}

export function needsCodeConfigMap(action: Action): boolean {
  return (action.exec.code ?? '').length > INLINE_CODE_LIMIT;
}

export function buildCodeConfigMap(action: Action, namespace: string, invoker?: string): V1ConfigMap {
  const service = serviceName(action.namespace, action.name, invoker);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: codeConfigMapName(service, actionRevision(action)),
      namespace,
      labels: { [LABELS.managed]: 'true', 'io.gust.service': service },
      annotations: {
        [ANNOTATIONS.action]: actionPath(action),
        [ANNOTATIONS.version]: actionRevision(action),
      },
    },
    data: { code: action.exec.code ?? '' },
  };
}

export function buildService(action: Action, options: ServiceOptions): KnativeService {
  const { invoker } = options;
  const name = serviceName(action.namespace, action.name, invoker);
  const path = actionPath(action);
  const large = needsCodeConfigMap(action);
  const env: V1EnvVar[] = [
    // OpenWhisk's init-on-start convention (runtimes/nodejs/src/init-on-start.ts).
    ...(action.exec.code !== undefined && !large
      ? [{ name: '__OW_ACTION_CODE', value: action.exec.code }]
      : []),
    ...(large ? [{ name: 'GUST_ACTION_CODE_FILE', value: `${CODE_MOUNT}/code` }] : []),
    { name: '__OW_ACTION_MAIN', value: action.exec.main ?? 'main' },
    { name: '__OW_ACTION_BINARY', value: String(action.exec.binary ?? false) },
    // What /init's env would carry on the other backends: the namespace whose runs it serves.
    { name: '__OW_NAMESPACE', value: invoker ?? tenantOf(action.namespace) },
    { name: '__OW_ACTION_NAME', value: `/${path}` },
    { name: '__OW_ACTION_VERSION', value: action.version },
    { name: '__OW_API_HOST', value: options.apiHost },
    ...(options.runtimeSecret !== undefined
      ? [{ name: RUNTIME_SECRET_ENV, value: options.runtimeSecret }]
      : []),
    // The pod's own name (downward API; Knative's `kubernetes.podspec-fieldref` feature): the
    // runtime names itself in each reply, so the controller knows whose log holds the activation.
    { name: POD_NAME_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...(action.limits.concurrency > 1 ? [{ name: '__OW_ALLOW_CONCURRENT', value: 'true' }] : []),
    // The action's `init: true` parameters, with their default values (a package's are not known here).
    ...action.parameters
      .filter((entry) => entry.init === true)
      .map((entry) => ({ name: entry.key, value: initEnvValue(entry.value) })),
  ];
  const memory = `${action.limits.memory}Mi`;
  const labels = { [LABELS.managed]: 'true' };
  const annotations = {
    [ANNOTATIONS.action]: path,
    [ANNOTATIONS.version]: actionRevision(action),
    ...(invoker === undefined ? {} : { [ANNOTATIONS.invoker]: invoker }),
  };
  return {
    apiVersion: `${SERVING.group}/${SERVING.version}`,
    kind: 'Service',
    metadata: { name, namespace: options.namespace, labels, annotations },
    spec: {
      template: {
        metadata: {
          labels,
          annotations: {
            ...annotations,
            [AUTOSCALING.minScale]: String(options.minScale),
            ...(options.maxScale > 0 ? { [AUTOSCALING.maxScale]: String(options.maxScale) } : {}),
            [AUTOSCALING.retention]: `${Math.max(0, Math.ceil(options.keepAliveMs / 1000))}s`,
          },
        },
        spec: {
          containerConcurrency: Math.max(1, action.limits.concurrency),
          timeoutSeconds: Math.max(1, Math.ceil(action.limits.timeout / 1000)),
          containers: [
            {
              name: USER_CONTAINER,
              image: options.image,
              imagePullPolicy: options.imagePullPolicy,
              env,
              resources: { requests: { memory }, limits: { memory } },
              ...(large
                ? { volumeMounts: [{ name: 'action-code', mountPath: CODE_MOUNT, readOnly: true }] }
                : {}),
            },
          ],
          ...(large
            ? {
                volumes: [
                  {
                    name: 'action-code',
                    configMap: { name: codeConfigMapName(name, actionRevision(action)) },
                  },
                ],
              }
            : {}),
        },
      },
    },
  };
}

export type Readiness =
  | { state: 'ready'; url: string; host: string; revision: string }
  | { state: 'failed'; message: string }
  | { state: 'pending'; message: string };

/** Where a Service stands for `generation`: Ready with that generation observed, failed, or not yet. */
export function readiness(service: KnativeService, generation: number): Readiness {
  const status = service.status ?? {};
  if ((status.observedGeneration ?? 0) < generation) {
    return { state: 'pending', message: `generation ${generation} not observed yet` };
  }
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const describe = (c: KnativeCondition | undefined): string =>
    c ? [c.reason, c.message].filter(Boolean).join(': ') || `${c.type}=${c.status}` : 'no Ready condition';
  if (ready?.status === 'False') {
    const configuration = status.conditions?.find(
      (c) => c.type === 'ConfigurationsReady' && c.status === 'False',
    );
    return { state: 'failed', message: describe(configuration ?? ready) };
  }
  if (
    ready?.status === 'True' &&
    status.url &&
    status.latestReadyRevisionName === status.latestCreatedRevisionName
  ) {
    return {
      state: 'ready',
      url: status.url,
      host: new URL(status.url).host,
      revision: status.latestReadyRevisionName!,
    };
  }
  return { state: 'pending', message: describe(ready) };
}
