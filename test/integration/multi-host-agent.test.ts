// Docker agents on several hosts (issue 15): a controller calls a container of another host
// through that host's agent endpoint (backends/docker/agent-endpoint.ts), never its unix socket.
// "Another host" is simulated on this machine, on loopback only: a second agent with a host id the
// controller does not count as its own (GUST_LOCAL_HOSTS defaults to the controller's own host),
// its own runtime directory, and an endpoint on 127.0.0.1:<free port>. Real stack: Temporal,
// dockerd, Cassandra. The controller's own host is too small for the action, so placement puts it
// on the other host.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { LABELS } from '../../common/names';
import type { GustConfig } from '../../common/config';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import type { ContainerBackend } from '../../backends/backend';
import { derivedRuntimeSecret } from '../../backends/runtime-secret-key';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import { createAgentBackend, startAgent, type RunningAgent } from '../../workers/agent';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually } from '../e2e/waiting';
import { clusterQuery } from '../../workflows/messages';
import { scopedNames } from '../../workflows/scope';

jest.setTimeout(240_000);

const KEY = randomBytes(32).toString('base64url');
let gust: GustUnderTest;
let remoteConfig: GustConfig;
let backend: ContainerBackend;
let agent: RunningAgent | undefined;

const remoteContainers = () =>
  backend.list({ [LABELS.managed]: 'true', [LABELS.host]: remoteConfig.agent.hostId });

async function startRemoteAgent(): Promise<RunningAgent> {
  const { connection, client } = gust.embedded;
  return startAgent({ connection, client, backend, config: remoteConfig, scope: gust.scope });
}

beforeAll(async () => {
  gust = await startGust({
    backend: 'docker',
    keyspace: 'gust_multi_host',
    pools: { stemCells: [] },
    // The controller's own host: too small for a 256 MB action.
    agent: { capacityMB: 128, runtimeSecretKey: KEY },
  });
  const hostId = `${gust.config.agent.hostId}-remote`;
  remoteConfig = {
    ...gust.config,
    agent: {
      ...gust.config.agent,
      hostId,
      capacityMB: 2048,
      // Another machine has a runtime directory of its own.
      runtimeDir: join(gust.config.agent.runtimeDir, hostId),
      endpoint: { host: '127.0.0.1', port: 0 },
    },
  };
  backend = await createAgentBackend(remoteConfig);
  agent = await startRemoteAgent();
});

afterAll(async () => {
  await agent?.stop();
  await gust?.stop();
  if (backend) {
    for (const c of await remoteContainers()) await backend.destroy(c.id);
    await backend.close();
    rmSync(remoteConfig.agent.runtimeDir, { recursive: true, force: true });
  }
});

interface Activation {
  activationId: string;
  logs: string[];
  response: { status: string; success: boolean; result: Record<string, unknown> };
}

/** A blocking invoke's activation, whether the invoke answered 200 or an error status. */
async function invoke(name: string): Promise<Activation> {
  try {
    return (await gust.client().actions.invoke({ name, blocking: true })) as unknown as Activation;
  } catch (error) {
    const body = (error as { error?: Activation }).error;
    if (body?.response === undefined) throw error;
    return body;
  }
}

test("the controller runs an action whose container lives behind another host's agent endpoint", async () => {
  expect(agent!.endpointUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await gust.client().actions.create({
    name: 'elsewhere',
    action: 'function main(p) { console.log("ran on the other host"); return { hello: p.who ?? "world" }; }',
  });
  const activation = await invoke('elsewhere');
  expect(activation.response).toMatchObject({ status: 'success', result: { hello: 'world' } });
  // Logs came through the agent endpoint too (the controller's machine has no such container);
  // they are collected after the result, into the stored record.
  const stored = await eventually(
    async () =>
      (await gust.client().activations.get({ name: activation.activationId })) as unknown as Activation,
    (record) => record.logs.length > 0,
    30_000,
  );
  expect(stored.logs.join('\n')).toContain('ran on the other host');

  const [container] = await remoteContainers();
  const leased = gust.embedded.controller.router.leased().find((c) => c.id === container!.id);
  expect(leased?.lease.container.agentUrl).toBe(agent!.endpointUrl);
  expect(leased?.address).toBe(`${agent!.endpointUrl}/containers/${container!.name}`);
  // The host advertises its endpoint in its registration too.
  const view = await gust.embedded.client.workflow
    .getHandle(scopedNames(gust.scope).hostsWorkflowId)
    .query(clusterQuery);
  expect(view.hosts.find((h) => h.id === remoteConfig.agent.hostId)?.endpoint).toBe(agent!.endpointUrl);
});

test("the agent endpoint refuses a call without the container's secret or with a wrong one", async () => {
  const [container] = await remoteContainers();
  const run = (headers: Record<string, string>) =>
    fetch(`${agent!.endpointUrl}/containers/${container!.name}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ value: { who: 'outsider' } }),
    });
  expect((await run({})).status).toBe(401);
  expect((await run({ [SECRET_HEADER]: derivedRuntimeSecret('another key', container!.name) })).status).toBe(
    401,
  );
  const logs = await fetch(`${agent!.endpointUrl}/containers/${container!.name}/logs`);
  expect(logs.status).toBe(401);
  await logs.body?.cancel();
  // With the container's own secret the same call goes through: the refusals above were the secret's.
  const allowed = await run({ [SECRET_HEADER]: derivedRuntimeSecret(KEY, container!.name) });
  expect(allowed.status).toBe(200);
  expect(await allowed.json()).toEqual({ hello: 'outsider' });
});

test('with the agent stopped: an OpenWhisk-shaped whisk error, the controller serves on, no container leaks', async () => {
  const [container] = await remoteContainers();
  await agent!.stop();
  agent = undefined;
  const activation = await invoke('elsewhere');
  expect(activation.response).toMatchObject({
    status: 'whisk internal error',
    success: false,
    result: { error: WHISK_MESSAGES.hostUnreachable },
  });
  // The record is stored, and the controller answers as before.
  const stored = await eventually(
    () =>
      gust
        .client()
        .activations.get({ name: activation.activationId })
        .catch(() => undefined),
    (record) => record !== undefined,
    30_000,
  );
  expect(stored).toMatchObject({ response: { status: 'whisk internal error' } });
  expect(await gust.client().actions.list()).toEqual(
    expect.arrayContaining([expect.objectContaining({ name: 'elsewhere' })]),
  );
  expect(gust.embedded.controller.router.leased().some((c) => c.id === container!.id)).toBe(false);

  // The agent comes back (a new port): the pool's destroy of the failed container, waiting on the
  // host's queue, runs; and the action runs again on a new container through the new endpoint.
  agent = await startRemoteAgent();
  await eventually(remoteContainers, (left) => !left.some((c) => c.id === container!.id), 120_000);
  const again = await invoke('elsewhere');
  expect(again.response).toMatchObject({ status: 'success', result: { hello: 'world' } });
});
