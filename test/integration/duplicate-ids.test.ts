// Audit M11: a second controller (or agent) started with the id of one that is running refuses to start
// (before, the two replaced each other's incarnation on every heartbeat and the pools took their
// containers in turn); once the first has stopped, the id is free again. The real stack (Temporal,
// dockerd), a whole Gust and a second controller in the same process.
import { startAgent } from '../../workers/agent';
import { clusterQuery } from '../../workflows/messages';
import { scopedNames } from '../../workflows/scope';
import { startGust, type GustUnderTest } from '../e2e/harness';

jest.setTimeout(120_000);

let gust: GustUnderTest;
beforeAll(async () => {
  // A short lease timeout: heartbeats every 2 s, so the check takes seconds.
  gust = await startGust({ backend: 'docker', store: 'sqlite', pools: { leaseTimeoutMs: 6000 } });
});
afterAll(() => gust?.stop());

const second = () => gust.startController();
const registry = () => gust.embedded.client.workflow.getHandle(scopedNames(gust.scope).hostsWorkflowId);

test('a controller id in use is refused; a stopped one’s id is free', async () => {
  const ow = gust.client();
  await ow.actions.create({ name: 'still', action: 'function main() { return { ok: true }; }' });
  expect(await ow.actions.invoke({ name: 'still', blocking: true, result: true })).toEqual({ ok: true });

  await expect(second()).rejects.toThrow(
    `controller id '${gust.config.controller.id}' is in use by a running controller`,
  );
  // The first one was not disturbed: same container, still leased to it.
  expect(await ow.actions.invoke({ name: 'still', blocking: true, result: true })).toEqual({ ok: true });

  const { incarnation } = gust.embedded.controller;
  await gust.embedded.controller.stop();
  // It left the registry as it stopped (not a lease timeout later): its id is free at once.
  expect((await registry().query(clusterQuery)).controllers).not.toContainEqual(
    expect.objectContaining({ incarnation }),
  );
  const replacement = await second();
  gust.embedded.controller = replacement; // stopped with the rest
  expect(replacement.incarnation).not.toBe('');
});

test('a host id in use by a running agent is refused; a stopped one’s id is free', async () => {
  const { connection, client, backend } = gust.embedded;
  const agent = (hostId: string) =>
    startAgent({
      connection,
      client,
      backend,
      scope: gust.scope,
      config: { ...gust.config, agent: { ...gust.config.agent, hostId } },
    });
  const running = gust.config.agent.hostId;
  await expect(agent(running)).rejects.toThrow(
    `host id '${running}' is in use by a running host: give every host its own GUST_HOST_ID`,
  );
  // An agent that stopped leaves the registry's live hosts at once: its id is free.
  const other = `${running}-b`;
  const first = await agent(other);
  expect((await registry().query(clusterQuery)).hosts.map((h) => h.id)).toContain(other);
  await first.stop();
  expect((await registry().query(clusterQuery)).hosts.map((h) => h.id)).not.toContain(other);
  const again = await agent(other);
  await again.stop();
});
