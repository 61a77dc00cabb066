// The Mesos framework's pure parts: TaskInfo building, offer planning (backends/mesos/spec.ts) and
// the task inventory's reaction to status updates (workflows/mesos-framework-state.ts).
import type { Offer, TaskState, TaskStatus } from '../../backends/mesos/protocol';
import { portRange, scalar } from '../../backends/mesos/protocol';
import {
  assertValidTaskId,
  buildTaskInfo,
  cpusFor,
  planOffers,
  type MesosTaskSpec,
} from '../../backends/mesos/spec';
import { MesosFramework } from '../../workflows/mesos-framework-state';

function task(taskId: string, memoryMB = 256): MesosTaskSpec {
  return {
    taskId,
    image: 'gust/action-nodejs-v20',
    cpus: cpusFor(memoryMB),
    memoryMB,
    env: { A: '1' },
    labels: { 'io.gust.owner': 'pool/guest/a' },
  };
}

function offer(id: string, cpus: number, mem: number, ports: [number, number], agent = `agent-${id}`): Offer {
  return {
    id: { value: id },
    framework_id: { value: 'fw' },
    agent_id: { value: agent },
    hostname: '127.0.3.1',
    url: { scheme: 'http', address: { hostname: '127.0.3.1', ip: '127.0.3.1', port: 5051 } },
    resources: [scalar('cpus', cpus), scalar('mem', mem), portRange(ports[0], ports[1])],
  };
}

describe('TaskInfo', () => {
  test('a task runs the image with the Docker containerizer, its port 8080 on the chosen host port', () => {
    const info = buildTaskInfo(task('gust_pool_1'), 'S1', 31005);
    expect(info.task_id).toEqual({ value: 'gust_pool_1' });
    expect(info.agent_id).toEqual({ value: 'S1' });
    expect(info.container?.type).toBe('DOCKER');
    expect(info.container?.docker).toMatchObject({
      image: 'gust/action-nodejs-v20',
      network: 'BRIDGE',
      port_mappings: [{ host_port: 31005, container_port: 8080, protocol: 'tcp' }],
    });
    expect(info.resources).toEqual([scalar('cpus', 0.25), scalar('mem', 256), portRange(31005)]);
    expect(info.command?.environment?.variables).toEqual([{ name: 'A', value: '1' }]);
    expect(info.labels?.labels).toEqual([{ key: 'io.gust.owner', value: 'pool/guest/a' }]);
  });

  test.each([
    [128, 0.13],
    [256, 0.25],
    [2048, 2],
    [32, 0.1],
  ])('an action of %i MB gets %f CPUs', (memoryMB, cpus) => expect(cpusFor(memoryMB)).toBe(cpus));

  test.each(['gust_pool_guest_a_1', 'a.b-c_d'])('%s is a valid task id', (id) =>
    expect(() => assertValidTaskId(id)).not.toThrow(),
  );
  test.each(['', '.', '..', 'a/b', 'a b'])('%j is not a valid task id', (id) =>
    expect(() => assertValidTaskId(id)).toThrow(),
  );
});

describe('planOffers', () => {
  const rows: {
    name: string;
    pending: MesosTaskSpec[];
    offers: Offer[];
    launches: Record<string, string[]>;
    unused: string[];
  }[] = [
    {
      name: 'one task takes the first offer that fits',
      pending: [task('t1')],
      offers: [offer('o1', 1, 1024, [31000, 31001]), offer('o2', 1, 1024, [32000, 32000])],
      launches: { o1: ['t1'] },
      unused: ['o2'],
    },
    {
      name: 'an offer too small for the task is left unused',
      pending: [task('t1', 512)],
      offers: [offer('o1', 1, 256, [31000, 31000])],
      launches: {},
      unused: ['o1'],
    },
    {
      name: 'too few cpus is too small',
      pending: [task('t1', 1024)],
      offers: [offer('o1', 0.5, 4096, [31000, 31000])],
      launches: {},
      unused: ['o1'],
    },
    {
      name: 'an offer without ports is too small',
      pending: [task('t1')],
      offers: [{ ...offer('o1', 1, 1024, [1, 1]), resources: [scalar('cpus', 1), scalar('mem', 1024)] }],
      launches: {},
      unused: ['o1'],
    },
    {
      name: 'several tasks share an offer while it has room, each on its own port',
      pending: [task('t1'), task('t2'), task('t3')],
      offers: [offer('o1', 0.5, 600, [31000, 31009])],
      launches: { o1: ['t1', 't2'] },
      unused: [],
    },
    {
      name: 'what one offer cannot hold goes to the next',
      pending: [task('t1', 512), task('t2', 512)],
      offers: [offer('o1', 1, 600, [31000, 31009]), offer('o2', 1, 600, [31000, 31009])],
      launches: { o1: ['t1'], o2: ['t2'] },
      unused: [],
    },
    {
      name: 'no pending task leaves every offer unused',
      pending: [],
      offers: [offer('o1', 1, 1024, [31000, 31000])],
      launches: {},
      unused: ['o1'],
    },
  ];
  test.each(rows)('$name', ({ pending, offers, launches, unused }) => {
    const plan = planOffers(pending, offers);
    expect(
      Object.fromEntries(plan.plans.map((p) => [p.offer.id.value, p.launches.map((l) => l.taskId)])),
    ).toEqual(launches);
    expect(plan.unused.map((o) => o.id.value)).toEqual(unused);
    const ports = plan.plans.flatMap((p) => p.launches.map((l) => `${p.offer.agent_id.value}:${l.hostPort}`));
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe('MesosFramework', () => {
  const NOW = 1_000_000;
  const status = (taskId: string, state: TaskState, extra: Partial<TaskStatus> = {}): TaskStatus => ({
    task_id: { value: taskId },
    state,
    agent_id: { value: 'agent-o1' },
    ...extra,
  });
  function launched(...ids: string[]): MesosFramework {
    const fw = new MesosFramework(undefined);
    for (const id of ids) fw.launch(task(id), NOW);
    const { plans } = planOffers(
      fw.pending().map((t) => t.spec),
      [offer('o1', 8, 8192, [31000, 31099])],
    );
    for (const p of plans) fw.markLaunching(p, NOW);
    return fw;
  }

  /** A framework whose task `id` the master reports running. */
  function running(id: string): MesosFramework {
    const fw = launched(id);
    fw.applyStatus(status(id, 'TASK_RUNNING'), NOW);
    return fw;
  }

  /** A framework that asked to kill its running task `id`, and sees the KILL due now. */
  function killing(id: string): MesosFramework {
    const fw = running(id);
    fw.kill(id, NOW);
    expect(fw.killsDue(NOW).map((t) => t.spec.taskId)).toEqual([id]);
    return fw;
  }

  test('launching the same task id twice records one task', () => {
    const fw = new MesosFramework(undefined);
    expect(fw.launch(task('t1'), NOW)).toBe(true);
    expect(fw.launch(task('t1'), NOW)).toBe(false);
    expect(fw.state.tasks).toHaveLength(1);
  });

  test('a launched task is placed where the offer was, and running once TASK_RUNNING comes', () => {
    const fw = launched('t1');
    expect(fw.find('t1')).toMatchObject({
      phase: 'launching',
      agentId: 'agent-o1',
      hostname: '127.0.3.1',
      hostPort: 31000,
      agentUrl: 'http://127.0.3.1:5051',
    });
    expect(fw.applyStatus(status('t1', 'TASK_RUNNING'), NOW + 1)).toEqual({});
    expect(fw.find('t1')).toMatchObject({ phase: 'running', runningAt: NOW + 1 });
  });

  test('a running task that dies unasked is reported to its owner', () => {
    const fw = running('t1');
    const outcome = fw.applyStatus(status('t1', 'TASK_LOST', { reason: 'REASON_AGENT_REMOVED' }), NOW);
    expect(outcome.died?.spec.taskId).toBe('t1');
    expect(fw.find('t1')?.phase).toBe('gone');
  });

  test('a killed task is gone without being reported', () => {
    const fw = killing('t1');
    expect(fw.killsDue(NOW + 1)).toEqual([]);
    expect(fw.killsDue(NOW + 60_000).map((t) => t.spec.taskId)).toEqual(['t1']);
    expect(fw.applyStatus(status('t1', 'TASK_KILLED'), NOW)).toEqual({});
    expect(fw.find('t1')?.phase).toBe('gone');
  });

  test('a KILL that did not reach the master is due again at once, not a resend period later', () => {
    const fw = killing('t1');
    fw.killNotSent(['t1', 'no-such-task']);
    expect(fw.killsDue(NOW + 1).map((t) => t.spec.taskId)).toEqual(['t1']);
  });

  test('killing a task still waiting for an offer drops it at once', () => {
    const fw = new MesosFramework(undefined);
    fw.launch(task('t1'), NOW);
    fw.kill('t1', NOW);
    expect(fw.find('t1')?.phase).toBe('gone');
    expect(fw.pending()).toEqual([]);
  });

  test('an invalid-offer or duplicate-id answer is settled by reconciliation, not by a second launch', () => {
    const fw = launched('t1', 't2');
    expect(
      fw.applyStatus(status('t1', 'TASK_LOST', { reason: 'REASON_INVALID_OFFERS' }), NOW).reconcile?.taskId,
    ).toBe('t1');
    expect(
      fw.applyStatus(
        status('t2', 'TASK_ERROR', { reason: 'REASON_TASK_INVALID', message: 'Task has duplicate ID: t2' }),
        NOW,
      ).reconcile?.taskId,
    ).toBe('t2');
    expect(fw.find('t1')?.phase).toBe('launching');
    expect(fw.pending()).toEqual([]);
  });

  test('a launch the master never heard of (reconciliation: TASK_LOST) waits for an offer again', () => {
    const fw = launched('t1');
    expect(fw.applyStatus(status('t1', 'TASK_LOST', { reason: 'REASON_RECONCILIATION' }), NOW)).toEqual({
      revive: true,
    });
    expect(fw.pending().map((t) => t.spec.taskId)).toEqual(['t1']);
  });

  test('a launch that fails is gone, and launching it again starts over', () => {
    const fw = launched('t1');
    fw.applyStatus(status('t1', 'TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED' }), NOW);
    expect(fw.find('t1')).toMatchObject({ phase: 'gone', status: { state: 'TASK_FAILED' } });
    expect(fw.launch(task('t1'), NOW)).toBe(true);
    expect(fw.find('t1')).toMatchObject({ phase: 'pending', launches: 0 });
  });

  test('a running task nobody asked for is killed', () => {
    const fw = new MesosFramework(undefined);
    expect(fw.applyStatus(status('stray', 'TASK_RUNNING'), NOW)).toEqual({
      kill: { taskId: 'stray', agentId: 'agent-o1' },
    });
    expect(fw.applyStatus(status('stray2', 'TASK_FINISHED'), NOW)).toEqual({});
  });

  test('reconciliation finds a task the framework thought lost alive: it is killed, not adopted', () => {
    const fw = running('t1');
    fw.applyStatus(status('t1', 'TASK_FAILED'), NOW);
    expect(
      fw.applyStatus(status('t1', 'TASK_RUNNING', { reason: 'REASON_RECONCILIATION' }), NOW).kill?.taskId,
    ).toBe('t1');
  });

  test('a framework the master removed loses every task, and the running ones are reported', () => {
    const fw = launched('t1', 't2');
    fw.state.frameworkId = 'fw';
    fw.applyStatus(status('t1', 'TASK_RUNNING'), NOW);
    expect(fw.removedByMaster(NOW).map((t) => t.spec.taskId)).toEqual(['t1']);
    expect(fw.state).toMatchObject({ frameworkId: null });
    expect(fw.state.tasks.every((t) => t.phase === 'gone')).toBe(true);
  });

  test('gone tasks are forgotten after ten minutes', () => {
    const fw = launched('t1', 't2');
    fw.applyStatus(status('t1', 'TASK_KILLED'), NOW);
    fw.prune(NOW + 11 * 60_000);
    expect(fw.state.tasks.map((t) => t.spec.taskId)).toEqual(['t2']);
  });
});
