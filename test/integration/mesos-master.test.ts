// The scheduler API on the wire, against the SIMULATED Mesos master (test/mesos/): Gust's client
// (backends/mesos/api.ts) subscribes, reads the RecordIO event stream, launches real Docker tasks
// from offers, and the simulator answers as Mesos does: stream ids, duplicate task ids, kills,
// reconciliation, sandbox files, agent loss.
import { execFileSync } from 'node:child_process';
import { MesosApiError, MesosSchedulerApi, agentApi, type Subscription } from '../../backends/mesos/api';
import type { Event, Offer, TaskInfo, TaskStatus } from '../../backends/mesos/protocol';
import { buildTaskInfo, cpusFor, type MesosTaskSpec } from '../../backends/mesos/spec';
import { locateSandbox } from '../../backends/mesos/sandbox-logs';
import { NODEJS_RUNTIME_IMAGE } from '../../runtimes/nodejs/runtime-entry';
import { RuntimeClient } from '../../runtimes/runtime-client';
import { startTestCluster, type TestCluster } from '../mesos/test-cluster';
import { waitFor } from './control-harness';
import { runId } from '../run-names';

jest.setTimeout(120_000);

const RUN = runId();
let cluster: TestCluster;
let api: MesosSchedulerApi;
const runtime = new RuntimeClient();

/** One subscription's events, collected as they stream in. */
class Stream {
  readonly events: Event[] = [];
  readonly abort = new AbortController();
  frameworkId = '';
  streamId = '';
  ended = false;

  static async open(name: string, id?: string): Promise<Stream> {
    const s = new Stream();
    const sub: Subscription = await api.subscribe(
      { user: 'root', name, failover_timeout: 60, ...(id ? { id: { value: id } } : {}) },
      s.abort.signal,
    );
    s.streamId = sub.streamId;
    void (async () => {
      try {
        for await (const e of sub.events) {
          if (e.type === 'SUBSCRIBED') s.frameworkId = e.subscribed.framework_id.value;
          s.events.push(e);
        }
      } catch {
        // aborted or dropped
      }
      s.ended = true;
    })();
    await waitFor('SUBSCRIBED', () => s.frameworkId);
    return s;
  }

  offers(): Offer[] {
    return this.events.flatMap((e) => (e.type === 'OFFERS' ? e.offers.offers : []));
  }

  statuses(taskId: string): TaskStatus[] {
    return this.events.flatMap((e) =>
      e.type === 'UPDATE' && e.update.status.task_id.value === taskId ? [e.update.status] : [],
    );
  }

  async nextOffers(after: number): Promise<Offer[]> {
    return waitFor('offers', () => {
      const fresh = this.offers().slice(after);
      return fresh.length ? fresh : null;
    });
  }

  async state(taskId: string, state: string): Promise<TaskStatus> {
    return waitFor(`${taskId} ${state}`, () => this.statuses(taskId).find((s) => s.state === state));
  }

  /** ACCEPT of one offer with one LAUNCH. */
  async launch(offer: Offer, task: TaskInfo): Promise<void> {
    await api.call(this.streamId, {
      type: 'ACCEPT',
      framework_id: { value: this.frameworkId },
      accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] },
    });
  }

  close(): void {
    this.abort.abort();
  }
}

const spec = (taskId: string, memoryMB = 256): MesosTaskSpec => ({
  taskId,
  image: NODEJS_RUNTIME_IMAGE,
  cpus: cpusFor(memoryMB),
  memoryMB,
  env: { __OW_ALLOW_CONCURRENT: 'true' },
  labels: { test: RUN },
});

beforeAll(async () => {
  execFileSync('bash', ['runtimes/build-images.sh'], { stdio: 'inherit' });
  cluster = await startTestCluster([
    { cpus: 2, memMB: 1024 },
    { cpus: 2, memMB: 1024 },
  ]);
  api = new MesosSchedulerApi(cluster.master.url);
}, 300_000);

afterAll(async () => {
  await runtime.closeAll();
  await api?.close();
  await cluster?.close();
});

test('SUBSCRIBE streams RecordIO events: SUBSCRIBED with a framework id, heartbeats, offers from every agent', async () => {
  const s = await Stream.open(`sub-${RUN}`);
  expect(s.streamId).toMatch(/^[0-9a-f-]{36}$/);
  expect(s.events[0]).toMatchObject({ type: 'SUBSCRIBED', subscribed: { heartbeat_interval_seconds: 1 } });
  const offers = await waitFor('offers from both agents', () => (s.offers().length >= 2 ? s.offers() : null));
  expect(new Set(offers.map((o) => o.agent_id.value)).size).toBe(2);
  expect(offers[0]!.resources.map((r) => r.name).sort()).toEqual(['cpus', 'mem', 'ports']);
  await waitFor('a heartbeat', () => s.events.some((e) => e.type === 'HEARTBEAT'));
  s.close();
});

test("calls need the subscription's Mesos-Stream-Id", async () => {
  const s = await Stream.open(`stream-${RUN}`);
  const revive = { type: 'REVIVE' as const, framework_id: { value: s.frameworkId } };
  await expect(api.call('not-the-stream', revive)).rejects.toMatchObject({ statusCode: 403 });
  await expect(api.call(s.streamId, revive)).resolves.toBeUndefined();
  s.close();
  await waitFor(
    'disconnect',
    () => cluster.master.frameworks().find((f) => f.id === s.frameworkId)?.connected === false,
  );
  await expect(api.call(s.streamId, revive)).rejects.toBeInstanceOf(MesosApiError);
});

test('a second SUBSCRIBE with the framework id takes over: the first stream hears "Framework failed over" and ends', async () => {
  const first = await Stream.open(`failover-${RUN}`);
  const second = await Stream.open(`failover-${RUN}`, first.frameworkId);
  expect(second.frameworkId).toBe(first.frameworkId);
  await waitFor('the first stream ends', () => first.ended);
  expect(first.events.at(-1)).toEqual({ type: 'ERROR', error: { message: 'Framework failed over' } });
  const revive = { type: 'REVIVE' as const, framework_id: { value: first.frameworkId } };
  await expect(api.call(first.streamId, revive)).rejects.toMatchObject({ statusCode: 403 });
  await expect(api.call(second.streamId, revive)).resolves.toBeUndefined();
  second.close();
});

test("ACCEPT launches a Docker task on the offer's agent; a second LAUNCH of the same task id is refused", async () => {
  const s = await Stream.open(`launch-${RUN}`);
  const [offer, other] = await waitFor('two offers', () => (s.offers().length >= 2 ? s.offers() : null));
  const port = 31000;
  const task = buildTaskInfo(spec(`t-${RUN}-1`), offer!.agent_id.value, port);
  await s.launch(offer!, task);
  const running = await s.state(task.task_id.value, 'TASK_RUNNING');
  expect(running).toMatchObject({
    agent_id: offer!.agent_id,
    uuid: expect.any(String),
    source: 'SOURCE_EXECUTOR',
  });
  await api.call(s.streamId, {
    type: 'ACKNOWLEDGE',
    framework_id: { value: s.frameworkId },
    acknowledge: { agent_id: running.agent_id!, task_id: running.task_id, uuid: running.uuid! },
  });
  // Reached at <agent host>:<host port>, published on the agent's loopback address only.
  const address = `http://${offer!.hostname}:${port}`;
  await waitFor('runtime', async () => (await fetch(`${address}/`).catch(() => null)) !== null);

  // The same task id again, on the other agent's offer: Mesos refuses duplicates of a live task.
  const again = buildTaskInfo(spec(`t-${RUN}-1`), other!.agent_id.value, port);
  await s.launch(other!, again);
  const refused = await s.state(task.task_id.value, 'TASK_ERROR');
  expect(refused).toMatchObject({
    reason: 'REASON_TASK_INVALID',
    message: expect.stringMatching(/duplicate/i),
  });
  // An offer is used once.
  await s.launch(offer!, buildTaskInfo(spec(`t-${RUN}-2`), offer!.agent_id.value, 31001));
  expect(await s.state(`t-${RUN}-2`, 'TASK_LOST')).toMatchObject({ reason: 'REASON_INVALID_OFFERS' });
  const mine = cluster.master.tasks().filter((t) => t.frameworkId === s.frameworkId);
  expect(mine.map((t) => t.taskId)).toEqual([`t-${RUN}-1`]);

  // Its output is in the sandbox, through the agent's files API.
  const init = await runtime.init(
    address,
    {
      value: {
        name: 'x',
        main: 'main',
        binary: false,
        code: 'function main(){ console.log("hello from mesos"); return {ok:true} }',
      },
    },
    5000,
  );
  expect(init).toMatchObject({ status: 200 });
  const run = await runtime.run(
    address,
    { value: {}, namespace: 'guest', action_name: '/guest/x', activation_id: '1'.repeat(32), deadline: '0' },
    5000,
  );
  expect(run).toMatchObject({ status: 200, text: JSON.stringify({ ok: true }) });
  const agent = cluster.master.agents().find((a) => a.id === offer!.agent_id.value)!;
  const sandbox = (await locateSandbox(agent.url, s.frameworkId, task.task_id.value))!;
  const stdout = await waitFor('sandbox stdout', async () => {
    const read = await agentApi.readFile(agent.url, `${sandbox.directory}/stdout`, 0, 65536);
    return read?.data.includes('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX') ? read.data : null;
  });
  expect(stdout).toContain('hello from mesos\n');
  expect(await agentApi.readFile(agent.url, `/etc/passwd`, 0, 10)).toBeNull();

  // KILL: TASK_KILLED, and the container is gone.
  await api.call(s.streamId, {
    type: 'KILL',
    framework_id: { value: s.frameworkId },
    kill: { task_id: task.task_id, agent_id: task.agent_id },
  });
  await s.state(task.task_id.value, 'TASK_KILLED');
  expect(await cluster.master.containers()).not.toContain(task.task_id.value);
  s.close();
});

test('DECLINE with a refuse filter keeps the agent from this framework until REVIVE', async () => {
  const s = await Stream.open(`decline-${RUN}`);
  const first = await waitFor('two offers', () => (s.offers().length >= 2 ? s.offers() : null));
  await api.call(s.streamId, {
    type: 'DECLINE',
    framework_id: { value: s.frameworkId },
    decline: { offer_ids: first.map((o) => o.id), filters: { refuse_seconds: 3600 } },
  });
  const seen = s.offers().length;
  await api.call(s.streamId, { type: 'REVIVE', framework_id: { value: s.frameworkId } });
  const again = await s.nextOffers(seen);
  expect(again.map((o) => o.agent_id.value).sort()).toEqual(first.map((o) => o.agent_id.value).sort());
  s.close();
});

test('RECONCILE answers the state of known tasks and TASK_LOST for unknown ones; a re-subscription gets unacknowledged updates again', async () => {
  const s = await Stream.open(`reconcile-${RUN}`);
  const [offer] = await waitFor('an offer', () => (s.offers().length ? s.offers() : null));
  const task = buildTaskInfo(spec(`r-${RUN}`), offer!.agent_id.value, 31002);
  await s.launch(offer!, task);
  const running = await s.state(task.task_id.value, 'TASK_RUNNING');
  const before = s.statuses(task.task_id.value).length;
  await api.call(s.streamId, {
    type: 'RECONCILE',
    framework_id: { value: s.frameworkId },
    reconcile: { tasks: [{ task_id: task.task_id }, { task_id: { value: 'nope' } }] },
  });
  await s.state('nope', 'TASK_LOST');
  await api.call(s.streamId, {
    type: 'RECONCILE',
    framework_id: { value: s.frameworkId },
    reconcile: { tasks: [] },
  });
  const answers = await waitFor('two answers', () => {
    const list = s.statuses(task.task_id.value).slice(before);
    return list.length >= 2 ? list : null;
  });
  expect(
    answers.every(
      (a) => a.state === 'TASK_RUNNING' && a.reason === 'REASON_RECONCILIATION' && a.uuid === undefined,
    ),
  ).toBe(true);

  // Never acknowledged: the same update comes again after a re-subscription with the framework id.
  s.close();
  const again = await Stream.open(`reconcile-${RUN}`, s.frameworkId);
  expect(again.frameworkId).toBe(s.frameworkId);
  expect((await again.state(task.task_id.value, 'TASK_RUNNING')).uuid).toBe(running.uuid);
  again.close();
});

test('a lost agent: its tasks are TASK_LOST and a FAILURE names it', async () => {
  const s = await Stream.open(`lost-${RUN}`);
  const offers = await waitFor('two offers', () => (s.offers().length >= 2 ? s.offers() : null));
  const offer = offers[1]!;
  const task = buildTaskInfo(spec(`l-${RUN}`), offer.agent_id.value, 31003);
  await s.launch(offer, task);
  await s.state(task.task_id.value, 'TASK_RUNNING');
  await cluster.master.loseAgent(offer.agent_id.value);
  expect(await s.state(task.task_id.value, 'TASK_LOST')).toMatchObject({ reason: 'REASON_AGENT_REMOVED' });
  await waitFor('FAILURE', () =>
    s.events.some((e) => e.type === 'FAILURE' && e.failure.agent_id?.value === offer.agent_id.value),
  );
  expect(await cluster.master.containers()).not.toContain(task.task_id.value);
  s.close();
});
