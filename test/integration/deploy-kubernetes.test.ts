// deploy/kubernetes/ against the stack's real apiserver, so the manifests cannot rot: every object
// goes through server-side apply. Namespaces, service accounts and RBAC are applied for real
// (idempotent, harmless: the RBAC check below needs them); Deployments, Services and the ConfigMap
// with dryRun=All (validated and admitted, not stored). Then the RBAC is checked to be least
// privilege with SubjectAccessReviews against the apiserver's RBAC authorizer.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
  type V1NetworkPolicy,
} from '@kubernetes/client-node';
import { describeKubernetes, kubeConfigPath } from './kubernetes-harness';

const DEPLOY_DIR = join(__dirname, '..', '..', 'deploy', 'kubernetes');
const APPLIED_FOR_REAL = new Set(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding']);

function manifests(): KubernetesObject[] {
  return readdirSync(DEPLOY_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) => loadAllYaml(readFileSync(join(DEPLOY_DIR, file), 'utf8')) as KubernetesObject[]);
}

describeKubernetes('deploy/kubernetes manifests', () => {
  const config = new KubeConfig();
  let objects: KubernetesObjectApi;
  let authorization: AuthorizationV1Api;

  beforeAll(() => {
    config.loadFromFile(kubeConfigPath);
    objects = KubernetesObjectApi.makeApiClient(config);
    authorization = config.makeApiClient(AuthorizationV1Api);
  });

  test('every object is accepted by the apiserver (server-side apply)', async () => {
    const all = manifests();
    expect(all.map((o) => o.kind).sort()).toEqual(
      expect.arrayContaining([
        'ConfigMap',
        'Deployment',
        'Deployment',
        'Namespace',
        'NetworkPolicy',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ]),
    );
    for (const object of all) {
      const dryRun = APPLIED_FOR_REAL.has(object.kind!) ? undefined : 'All';
      const applied = await objects.patch(
        object,
        undefined,
        dryRun,
        'gust-deploy-test',
        true,
        PatchStrategy.ServerSideApply,
      );
      expect(applied).toMatchObject({ kind: object.kind, metadata: { name: object.metadata?.name } });
    }
  });

  test('the service accounts may touch pods and pods/log in gust-actions only', async () => {
    const can = async (
      serviceAccount: string,
      namespace: string,
      verb: string,
      resource: string,
      subresource?: string,
    ) => {
      const review = await authorization.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: `system:serviceaccount:gust-system:${serviceAccount}`,
            groups: ['system:serviceaccounts', 'system:serviceaccounts:gust-system', 'system:authenticated'],
            resourceAttributes: { namespace, verb, resource, subresource },
          },
        },
      });
      return review.status?.allowed ?? false;
    };
    for (const verb of ['create', 'delete', 'list', 'watch', 'get'])
      expect(await can('gust-provisioner', 'gust-actions', verb, 'pods')).toBe(true);
    expect(await can('gust-provisioner', 'gust-actions', 'get', 'pods', 'log')).toBe(true);
    expect(await can('gust-controller', 'gust-actions', 'watch', 'pods')).toBe(true);
    expect(await can('gust-controller', 'gust-actions', 'get', 'pods', 'log')).toBe(true);
    // Nothing more: not another namespace, not other resources, controllers cannot create.
    expect(await can('gust-controller', 'gust-actions', 'create', 'pods')).toBe(false);
    expect(await can('gust-provisioner', 'default', 'create', 'pods')).toBe(false);
    expect(await can('gust-provisioner', 'gust-system', 'list', 'pods')).toBe(false);
    expect(await can('gust-provisioner', 'gust-actions', 'get', 'secrets')).toBe(false);
    expect(await can('gust-provisioner', 'gust-actions', 'create', 'pods', 'exec')).toBe(false);
    expect(await can('gust-provisioner', '', 'list', 'nodes')).toBe(false);
  });

  test('action pods accept only Gust’s controllers and provisioner, on the runtime port, and dial nothing', () => {
    // As the client's models read it (`from` is `_from`).
    const policy = manifests().find((o) => o.kind === 'NetworkPolicy') as V1NetworkPolicy;
    expect(policy.metadata?.namespace).toBe('gust-actions');
    const gustSystem = { matchLabels: { 'kubernetes.io/metadata.name': 'gust-system' } };
    expect(policy.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          _from: ['gust-controller', 'gust-provisioner'].map((name) => ({
            namespaceSelector: gustSystem,
            podSelector: { matchLabels: { 'app.kubernetes.io/name': name } },
          })),
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
      ],
      egress: [],
    });
  });
});
