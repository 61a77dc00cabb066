// What only the docker backend does: limits, OOM, blackbox images, idempotent create, label
// listing, events. Real dockerd, no mocks; every container carries this file's owner label.
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import type { ContainerEvent } from '../../backends/backend';
import { CONTAINER_MESSAGES, describeContainerDeath } from '../../backends/container-errors';
import { DockerApi } from '../../backends/docker/api';
import { DockerBackend } from '../../backends/docker/backend';
import { NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../../runtimes/runtime-client';
import { runPayload, specsFor } from './backend-fixtures';

jest.setTimeout(120_000);

const OWNER = `test-backend-docker-${process.pid}`;
const config = loadConfig();
const backend = new DockerBackend({
  socketPath: config.agent.dockerSocket,
  hostId: 'test-host',
  capacityMB: 2048,
});
const api = new DockerApi(config.agent.dockerSocket);
const client = new RuntimeClient();

const spec = specsFor(OWNER, 256);

beforeAll(() => {
  execFileSync('bash', ['runtimes/build-images.sh'], { stdio: 'inherit' });
}, 300_000);

afterAll(async () => {
  for (const container of await backend.list({ [LABELS.owner]: OWNER })) await backend.destroy(container.id);
  expect(await backend.list({ [LABELS.managed]: 'true', [LABELS.owner]: OWNER })).toEqual([]);
  await client.closeAll();
  await backend.close();
  await api.close();
});

it('creates with OpenWhisk limits, Gust labels and a runtime socket (no port)', async () => {
  const info = await backend.create(spec({ memoryMB: 256, env: { FOO: 'bar' } }));
  expect(info.address).toMatch(/^unix:\/.*\/rt\/runtime\.sock$/);
  expect(info).toMatchObject({
    backend: 'docker',
    host: 'test-host',
    kind: NODEJS_RUNTIME_KIND,
    memoryMB: 256,
  });
  const inspected = (await api.inspectContainer(info.id))!;
  const host = (inspected as unknown as { HostConfig: Record<string, unknown> }).HostConfig;
  expect(host).toMatchObject({
    Memory: 256 * 1024 * 1024,
    MemorySwap: 256 * 1024 * 1024,
    CpuShares: 128, // 1024 × 256 / 2048
    PidsLimit: 1024,
    Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
    CapDrop: ['ALL'],
    ReadonlyRootfs: true,
  });
  expect(inspected.NetworkSettings.Ports ?? {}).toEqual({});
  expect(inspected.Config.Labels).toMatchObject({
    [LABELS.managed]: 'true',
    [LABELS.host]: 'test-host',
    [LABELS.kind]: NODEJS_RUNTIME_KIND,
    [LABELS.memory]: '256',
    [LABELS.owner]: OWNER,
  });
  await backend.destroy(info.id);
});

it('is idempotent by name, also when two creates race', async () => {
  const same = spec();
  const [a, b] = await Promise.all([backend.create(same), backend.create(same)]);
  const c = await backend.create(same);
  expect(b.id).toBe(a.id);
  expect(c.id).toBe(a.id);
  expect(c.address).toBe(a.address);
  await backend.destroy(a.id);
  await backend.destroy(a.id); // gone already: still fine
  expect(await backend.state(a.id)).toBeNull();
});

it('lists by labels', async () => {
  const tag = `list-${Date.now()}`;
  const one = await backend.create(spec({ labels: { [LABELS.owner]: OWNER, [LABELS.action]: tag } }));
  await backend.create(spec());
  const listed = await backend.list({ [LABELS.owner]: OWNER, [LABELS.action]: tag });
  expect(listed.map((c) => [c.id, c.address, c.name])).toEqual([[one.id, one.address, one.name]]);
});

it('reports a missing image as a developer error without pulling', async () => {
  await expect(
    backend.create(spec({ image: 'gust/no-such-image:none', kind: 'blackbox' })),
  ).rejects.toMatchObject({
    code: 'GUST_ERR_BACKEND_IMAGE_NOT_FOUND',
    developerError: true,
  });
});

it('runs a blackbox image that speaks the protocol its own way', async () => {
  const info = await backend.create(
    spec({ image: 'gust/blackbox-echo:test', kind: 'blackbox', socketRuntime: false }),
  );
  const logs = backend.logs(info);
  const init = await client.init(
    info.address,
    { value: { name: 't', main: 'main', code: 'ignored', binary: false } },
    5000,
  );
  expect(init).toMatchObject({ outcome: 'response', status: 200 });
  expect(JSON.parse((init as { text: string }).text)).toEqual({ OK: true, ignored: 'code' });
  const run = await client.run(info.address, { ...runPayload, value: { hello: 'box' } }, 5000);
  expect(run).toMatchObject({ outcome: 'response', status: 200 });
  expect(JSON.parse((run as { text: string }).text)).toMatchObject({
    echo: { hello: 'box' },
    runtime: 'blackbox-echo',
  });
  const lines = await logs.next({ limitBytes: 10_000, waitMs: 5000 });
  expect(lines).toEqual([expect.stringMatching(/Z stdout: blackbox-echo run 1$/)]);
  logs.close();
  await client.close(info.address);
  await backend.destroy(info.id);
});

it('reports an action that exhausts 128 MB as OOM: connection error, state, event, message', async () => {
  const events: ContainerEvent[] = [];
  const unsubscribe = backend.onEvent((event) => events.push(event));
  const info = await backend.create(spec({ memoryMB: 128 }));
  const code = `function main() {
    const hoard = [];
    for (;;) hoard.push(Buffer.alloc(8 * 1024 * 1024, 1));
  }`;
  const init = await client.init(
    info.address,
    { value: { name: 't', main: 'main', code, binary: false } },
    5000,
  );
  expect(init).toMatchObject({ outcome: 'response', status: 200 });
  const run = await client.run(info.address, runPayload, 30_000);
  expect(run).toMatchObject({ outcome: 'connection-error' });
  const state = await backend.state(info.id, { awaitExitMs: 5000 });
  expect(state).toEqual({ running: false, exitCode: 137, oomKilled: true });
  expect(describeContainerDeath(state, 'run')).toBe(CONTAINER_MESSAGES.memoryExhausted);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !events.some((e) => e.containerId === info.id && e.type === 'exit')) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(events.filter((e) => e.containerId === info.id)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'oom', containerId: info.id, name: info.name }),
      expect.objectContaining({ type: 'exit', containerId: info.id, exitCode: 137, name: info.name }),
    ]),
  );
  unsubscribe();
  await client.close(info.address);
  await backend.destroy(info.id);
});
