// The kubernetes backend across a crash and restart of the stack's kube-apiserver: its pod watch
// resumes (from its last resourceVersion, or by listing again after 410 Gone), so a pod deleted
// afterwards is still reported, and creating — which waits on the watch — still works.
import type { ContainerEvent } from '../../backends/backend';
import type { KubernetesBackend } from '../../backends/kubernetes/backend';
import { specsFor } from '../integration/backend-fixtures';
import { waitFor } from '../integration/control-harness';
import {
  ACTIONS_NAMESPACE,
  adminApi,
  describeKubernetes,
  restartApiserver,
  secretClient,
  suiteBackend,
} from '../integration/kubernetes-harness';
import { runId } from '../run-names';

jest.setTimeout(240_000);

const RUN = runId();
const HOST = `cluster.test-k8s-restart-${RUN}`;
const spec = specsFor(`test-k8s-restart-${RUN}`, 128);
const api = adminApi();
const client = secretClient(() => backend);
let backend: KubernetesBackend;

describeKubernetes('kubernetes backend across an apiserver restart', () => {
  const suite = suiteBackend(HOST, client);
  beforeAll(() => {
    backend = suite();
  });

  it('keeps watching: a pod deleted after the restart is reported, and a new pod comes up', async () => {
    const events: ContainerEvent[] = [];
    const unsubscribe = backend.onEvent((event) => events.push(event));
    const before = await backend.create(spec());
    const watches = backend.watchStats.watches;
    restartApiserver();
    await waitFor('the watch to reconnect', () => backend.watchStats.watches > watches, 30_000);
    await api.deleteNamespacedPod({ name: before.id, namespace: ACTIONS_NAMESPACE, gracePeriodSeconds: 0 });
    await waitFor('the deletion to be reported', () =>
      events.some((e) => e.containerId === before.id && e.type === 'exit'),
    );
    const after = await backend.create(spec());
    const init = await client.init(
      after.address,
      { value: { name: 't', main: 'main', code: 'function main() { return {}; }', binary: false } },
      10_000,
    );
    expect(init).toMatchObject({ outcome: 'response', status: 200 });
    unsubscribe();
    await client.close(after.address);
    await backend.destroy(after.id);
  });
});
