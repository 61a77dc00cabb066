// Fault: the stack's dockerd is restarted (what a package upgrade does) under a running Gust. Its
// containers stop with it; Gust hears of their deaths from Docker's event stream (reconnecting
// after the restart), its pools replace them, the action is served again, and no stopped container
// is left behind. The shared dockerd: run with the faults project, alone (`npm run test:faults`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import { startGust, type GustUnderTest } from '../e2e/harness';
import { eventually } from '../e2e/waiting';

jest.setTimeout(240_000);

const STACK = join(__dirname, '..', '..', 'scripts', 'stack', 'stack.sh');
let gust: GustUnderTest;

beforeAll(async () => {
  gust = await startGust({ backend: 'docker', store: 'sqlite' });
});
afterAll(async () => {
  // Whatever happened, leave dockerd running for what comes next.
  execFileSync('bash', [STACK, 'start', 'docker'], { stdio: 'inherit' });
  await gust?.stop();
});

const CODE = `const self = Math.random().toString(36).slice(2);
function main() { return { self }; }`;

/**
 * SIGTERM to dockerd, as a service manager stops it (it stops its containers and keeps them), then
 * the stack's start. (`stack.sh stop docker` would remove Gust's containers first.)
 */
async function restartDockerd(): Promise<void> {
  const pid = Number(readFileSync(join(loadConfig().stateDir, 'docker', 'pid'), 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      break; // gone
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  execFileSync('bash', [STACK, 'start', 'docker'], { stdio: 'inherit' });
}

/** Every container of this Gust's host, with whether it runs. */
async function containers(): Promise<{ id: string; action?: string; running: boolean }[]> {
  const { backend } = gust.embedded;
  const all = await backend.list({ [LABELS.host]: gust.config.agent.hostId });
  return Promise.all(
    all.map(async (c) => ({
      id: c.id,
      action: c.labels[LABELS.action],
      running: (await backend.state(c.id))?.running ?? false,
    })),
  );
}

test('dockerd restarted: dead containers are replaced, the action serves again, nothing stopped is left', async () => {
  const ow = gust.client();
  const self = async (): Promise<string> =>
    ((await ow.actions.invoke({ name: 'survivor', blocking: true, result: true })) as { self: string }).self;
  await ow.actions.create({ name: 'survivor', action: CODE });
  const before = await self();
  const [old] = (await containers()).filter((c) => c.action === 'survivor');

  await restartDockerd();

  // Replaced by its pool, and every container of the host (stem cells too) runs again.
  const after = await eventually(
    containers,
    (cs) =>
      cs.length > 0 &&
      cs.every((c) => c.running) &&
      cs.some((c) => c.action === 'survivor' && c.id !== old!.id),
    120_000,
    1000,
  );
  expect(after.map((c) => c.id)).not.toContain(old!.id);
  expect(await self()).not.toBe(before);
});
