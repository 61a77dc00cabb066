// Fault: an action container is SIGKILLed by its engine (what an OOM kill, a crash or an operator's
// `docker kill` looks like) — once in the middle of a run, once while it waits between activations.
// The activation that was running gets OpenWhisk's developer error, not a hang or a 500; the pool
// learns of the death from Docker's events and replaces the container before anyone asks (audit
// M8); nothing is left behind. A whole Gust on the real stack (Temporal, dockerd), docker backend.
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import type { ContainerInfo } from '../../common/types';
import { DockerApi } from '../../backends/docker/api';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually, failure } from '../e2e/waiting';

jest.setTimeout(180_000);

const docker = new DockerApi(loadConfig().agent.dockerSocket);
let gust: GustUnderTest;
let ow: ReturnType<GustUnderTest['client']>;

// Each container names itself once, so a reply tells which container served it.
const CODE = `
const self = Math.random().toString(36).slice(2);
async function main(p) {
  if (p.sleepMs) await new Promise((r) => setTimeout(r, p.sleepMs));
  return { self };
}`;

beforeAll(async () => {
  gust = await startGust({ backend: 'docker', store: 'sqlite' });
  ow = gust.client();
});
afterAll(async () => {
  await gust?.stop();
  await docker.close();
});

/** The action's containers on this Gust's host that are running. */
async function running(action: string): Promise<ContainerInfo[]> {
  const all = await gust.embedded.backend.list({
    [LABELS.host]: gust.config.agent.hostId,
    [LABELS.action]: action,
  });
  const states = await Promise.all(all.map((c) => gust.embedded.backend.state(c.id)));
  return all.filter((_, i) => states[i]?.running);
}

/**
 * 128 MB: no stem cell of that size, so each action's container is created for it and labelled with
 * its name (a claimed stem cell keeps the labels it was made with, and `running` would miss it).
 */
const create = (name: string) => ow.actions.create({ name, action: CODE, limits: { memory: 128 } });

/**
 * The action's running containers once exactly one, other than `victim`, runs and is leased to the
 * controller: replaced, and ready for the next request (before its lease a request would ask for one more).
 */
const replacementOf = (action: string, victim: ContainerInfo): Promise<ContainerInfo[]> =>
  eventually(
    () => running(action),
    (cs) =>
      cs.length === 1 &&
      cs[0]!.id !== victim.id &&
      gust.embedded.controller.router.leased().some((c) => c.id === cs[0]!.id && !c.revoked),
    30_000,
  );

const invoke = async (name: string, params: Record<string, unknown> = {}): Promise<string> =>
  ((await ow.actions.invoke({ name, params, blocking: true, result: true })) as { self: string }).self;

test('killed mid-run: the activation ends with a developer error, and the pool replaces the container', async () => {
  await create('midrun');
  await invoke('midrun');
  const [victim] = await running('midrun');
  expect(victim).toBeDefined();

  const pending = failure(ow.actions.invoke({ name: 'midrun', params: { sleepMs: 30_000 }, blocking: true }));
  // The run has reached the container when the runtime holds it (give the request a moment).
  await new Promise((r) => setTimeout(r, 1500));
  await docker.killContainer(victim!.id);

  const error = await pending;
  expect(error.statusCode).toBe(502);
  const activation = error.error as { response?: { status?: string; result?: { error?: string } } };
  expect(activation.response?.status).toBe('action developer error');
  expect(activation.response?.result?.error).toBe(WHISK_MESSAGES.exitedDuringRun);

  // Replaced and the dead one removed, without a user request in between.
  const replaced = await replacementOf('midrun', victim!);
  expect(await docker.inspectContainer(victim!.id)).toBeNull();
  await invoke('midrun');
  expect((await running('midrun')).map((c) => c.id)).toEqual([replaced[0]!.id]);
});

test('killed between activations: replaced before the next request, which it serves', async () => {
  await create('idle');
  const first = await invoke('idle');
  const [victim] = await running('idle');
  await docker.killContainer(victim!.id);

  const [replacement] = await replacementOf('idle', victim!);
  const served = await invoke('idle');
  expect(served).not.toBe(first);
  expect((await running('idle')).map((c) => c.id)).toEqual([replacement!.id]);
  expect(await docker.inspectContainer(victim!.id)).toBeNull();
});
