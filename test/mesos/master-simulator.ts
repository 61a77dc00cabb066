// SIMULATOR — NOT APACHE MESOS. A test stand-in for a Mesos master and its agents, written for
// Gust's tests because Mesos has moved to the Apache Attic and no master can be installed here.
// It speaks the v1 scheduler HTTP API subset Gust uses, faithfully on the wire: SUBSCRIBE answered
// with a RecordIO-framed JSON event stream (chunked, Mesos-Stream-Id header), SUBSCRIBED,
// HEARTBEAT, OFFERS, RESCIND, UPDATE, FAILURE, ERROR events; ACCEPT (LAUNCH), DECLINE with
// filters.refuse_seconds, REVIVE, KILL, ACKNOWLEDGE, RECONCILE, TEARDOWN calls; failover_timeout.
// Tasks run as real Docker containers (the project's dockerd), their ports published on the
// agent's loopback address only. Each agent serves `/state` and `/files/read` for the sandboxes.
// Simplifications: one role, no reservations or volumes, no executors of one's own, no master
// election, no executor preamble in the sandbox stdout.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  statSync,
  symlinkSync,
  type WriteStream,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DockerApi } from '../../backends/docker/api';
import { DockerFrameDemuxer } from '../../backends/logs/docker-frame-demuxer';
import type {
  Call,
  Event,
  FrameworkInfo,
  Offer,
  Resource,
  TaskInfo,
  TaskState,
  TaskStatus,
} from '../../backends/mesos/protocol';
import { isTerminal, portsOf, scalar, scalarOf, STREAM_ID_HEADER } from '../../backends/mesos/protocol';
import { encodeRecord } from '../../backends/mesos/recordio';

export interface SimAgentConfig {
  /** A loopback address (127.x.y.z): the agent's hostname, where its tasks publish their ports. */
  hostname: string;
  cpus: number;
  memMB: number;
  /** Inclusive port range the agent offers. */
  ports: [number, number];
  /** Port of the agent's own HTTP endpoint (`/state`, `/files/read`). @default 0 (any free port) */
  httpPort?: number;
}

export interface MesosMasterSimulatorOptions {
  agents: SimAgentConfig[];
  dockerSocket: string;
  /** Where sandboxes live (`<workDir>/slaves/<agent>/frameworks/<fw>/executors/<task>/runs/<id>`). */
  workDir: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Stable across restarts: agent ids derive from it, and a restarted master recovers its tasks. */
  clusterId?: string;
  /** @default 15 (Mesos' default) */
  heartbeatIntervalSeconds?: number;
  /** How often the allocator makes offers. @default 1000 (Mesos' --allocation_interval) */
  allocationIntervalMs?: number;
  /** Rebuild tasks from the containers of a previous master run (agents re-registering). */
  recover?: boolean;
  /** Called with every call the master accepts, before it acts on it (tests inject faults here). */
  onCall?: (call: Call) => void;
}

interface SimAgent extends SimAgentConfig {
  id: string;
  server: Server;
  url: string;
  removed: boolean;
}

interface SimFramework {
  id: string;
  info: FrameworkInfo;
  stream: { id: string; response: ServerResponse } | null;
  failoverTimer: NodeJS.Timeout | null;
  /** agent id → time until which it is not offered to this framework (refuse filters). */
  filters: Map<string, number>;
}

interface SimTask {
  info: TaskInfo;
  frameworkId: string;
  agentId: string;
  state: TaskState;
  lastStatus: TaskStatus;
  /** The latest reliable update not yet acknowledged (resent on re-subscription). */
  unacked: TaskStatus | null;
  containerId: string | null;
  directory: string;
  killRequested: boolean;
  stop: AbortController;
}

interface SimOffer {
  offer: Offer;
  frameworkId: string;
  agentId: string;
  cpus: number;
  mem: number;
  ports: number[];
}

const LABEL = 'io.gust.mesos-sim.';
/** Mesos' default Filters.refuse_seconds. */
const DEFAULT_REFUSE_SECONDS = 5;

export class MesosMasterSimulator {
  readonly #options: MesosMasterSimulatorOptions;
  readonly #docker: DockerApi;
  readonly #clusterId: string;
  readonly #runId = randomBytes(3).toString('hex');
  readonly #server: Server;
  readonly #agents: SimAgent[] = [];
  readonly #frameworks = new Map<string, SimFramework>();
  readonly #removedFrameworks = new Set<string>();
  readonly #tasks = new Map<string, SimTask>(); // key: frameworkId/taskId
  readonly #offers = new Map<string, SimOffer>();
  #allocationTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #seq = 0;
  #url = '';
  /** Every call the master accepted, in order (tests read what the framework sent). */
  readonly calls: Call[] = [];

  constructor(options: MesosMasterSimulatorOptions) {
    this.#options = options;
    this.#docker = new DockerApi(options.dockerSocket);
    this.#clusterId = options.clusterId ?? randomBytes(4).toString('hex');
    this.#server = createServer((req, res) => void this.#route(req, res));
  }

  get url(): string {
    return this.#url;
  }

  get clusterId(): string {
    return this.#clusterId;
  }

  async start(): Promise<this> {
    for (const [i, config] of this.#options.agents.entries()) await this.#startAgent(config, i);
    if (this.#options.recover) await this.#recover();
    await new Promise<void>((resolve) => this.#server.listen(this.#options.port ?? 0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    this.#allocationTimer = setInterval(() => this.#allocate(), this.#options.allocationIntervalMs ?? 1000);
    this.#heartbeatTimer = setInterval(
      () => this.#broadcast({ type: 'HEARTBEAT' }),
      (this.#options.heartbeatIntervalSeconds ?? 15) * 1000,
    );
    return this;
  }

  /** Stops serving. `keepTasks` leaves the containers running for a restarted master to recover. */
  async stop(options: { keepTasks?: boolean } = {}): Promise<void> {
    clearInterval(this.#allocationTimer);
    clearInterval(this.#heartbeatTimer);
    for (const fw of this.#frameworks.values()) {
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.stream?.response.destroy();
    }
    for (const task of this.#tasks.values()) {
      task.stop.abort();
      if (!options.keepTasks && task.containerId)
        await this.#docker.removeContainer(task.containerId).catch(() => undefined);
    }
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const agent of this.#agents) {
      agent.server.closeAllConnections();
      await new Promise<void>((resolve) => agent.server.close(() => resolve()));
    }
    await this.#docker.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Test controls

  /** Breaks every subscription connection (the master drops the stream). */
  dropSubscriptions(): void {
    for (const fw of this.#frameworks.values()) fw.stream?.response.destroy();
  }

  /** The agent dies: its containers go, its tasks are TASK_LOST, its offers rescinded. */
  async loseAgent(agentId: string): Promise<void> {
    const agent = this.#agents.find((a) => a.id === agentId);
    if (!agent || agent.removed) return;
    agent.removed = true;
    for (const [id, offer] of this.#offers) {
      if (offer.agentId !== agentId) continue;
      this.#offers.delete(id);
      this.#send(offer.frameworkId, { type: 'RESCIND', rescind: { offer_id: { value: id } } });
    }
    for (const task of this.#tasks.values()) {
      if (task.agentId !== agentId || isTerminal(task.state)) continue;
      task.stop.abort();
      if (task.containerId) await this.#docker.removeContainer(task.containerId).catch(() => undefined);
      this.#update(task, 'TASK_LOST', {
        reason: 'REASON_AGENT_REMOVED',
        source: 'SOURCE_MASTER',
        message: 'Agent removed',
      });
    }
    for (const fw of this.#frameworks.values())
      this.#send(fw.id, { type: 'FAILURE', failure: { agent_id: { value: agentId } } });
    agent.server.closeAllConnections();
    agent.server.close();
  }

  agents(): { id: string; hostname: string; url: string; removed: boolean }[] {
    return this.#agents.map(({ id, hostname, url, removed }) => ({ id, hostname, url, removed }));
  }

  /** Non-terminal tasks, as the master knows them. */
  tasks(): {
    taskId: string;
    frameworkId: string;
    agentId: string;
    state: TaskState;
    hostPort: number | undefined;
  }[] {
    return [...this.#tasks.values()]
      .filter((t) => !isTerminal(t.state))
      .map((t) => ({
        taskId: t.info.task_id.value,
        frameworkId: t.frameworkId,
        agentId: t.agentId,
        state: t.state,
        hostPort: t.info.container?.docker?.port_mappings?.[0]?.host_port,
      }));
  }

  frameworks(): { id: string; connected: boolean; name: string }[] {
    return [...this.#frameworks.values()].map((f) => ({
      id: f.id,
      connected: f.stream !== null,
      name: f.info.name,
    }));
  }

  /** Docker containers this cluster runs (for leak checks). */
  async containers(): Promise<string[]> {
    const all = await this.#docker.listContainers([`${LABEL}cluster=${this.#clusterId}`]);
    return all.map((c) => c.Labels?.[`${LABEL}task`] ?? '');
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/health') return void res.writeHead(200).end();
      if (req.method === 'GET' && path === '/master/state') return json(res, 200, this.#masterState());
      if (path !== '/api/v1/scheduler') return void res.writeHead(404).end('not found');
      if (req.method !== 'POST') return void res.writeHead(405).end('Expecting a POST request');
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return void res.writeHead(415).end('Expecting Content-Type application/json');
      let call: Call;
      try {
        call = JSON.parse(await readBody(req)) as Call;
      } catch {
        return void res.writeHead(400).end('Failed to parse body into JSON');
      }
      if (call.type === 'SUBSCRIBE') return this.#subscribe(call, res);
      const fw = this.#frameworks.get(call.framework_id?.value ?? '');
      if (!fw) return void res.writeHead(403).end('Framework is not subscribed');
      const streamId = req.headers[STREAM_ID_HEADER];
      if (!streamId)
        return void res
          .writeHead(400)
          .end('All non-subscribe calls should include the Mesos-Stream-Id header');
      if (fw.stream === null || fw.stream.id !== streamId)
        return void res
          .writeHead(403)
          .end(
            `The stream ID '${String(streamId)}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`,
          );
      this.calls.push(call);
      this.#options.onCall?.(call);
      res.writeHead(202).end();
      await this.#handle(fw, call);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  }

  #subscribe(call: Extract<Call, { type: 'SUBSCRIBE' }>, res: ServerResponse): void {
    const info = call.subscribe?.framework_info;
    if (!info?.user || !info?.name)
      return void res.writeHead(400).end('Expecting framework_info.user and .name');
    const requested = info.id?.value;
    const streamId = randomUUID();
    res.writeHead(200, { 'content-type': 'application/json', [STREAM_ID_HEADER]: streamId });
    if (requested && this.#removedFrameworks.has(requested)) {
      res.end(
        encodeRecord(JSON.stringify({ type: 'ERROR', error: { message: 'Framework has been removed' } })),
      );
      return;
    }
    const id = requested ?? `${this.#clusterId}-${this.#runId}-${String(this.#seq++).padStart(4, '0')}`;
    let fw = this.#frameworks.get(id);
    if (fw) {
      // Failover or reconnection: the new connection wins (force). Like Mesos's master, it tells
      // the old connection "Framework failed over" before closing it.
      const old = fw.stream;
      fw.stream = null;
      old?.response.end(
        encodeRecord(JSON.stringify({ type: 'ERROR', error: { message: 'Framework failed over' } })),
      );
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.failoverTimer = null;
      fw.info = { ...info, id: { value: id } };
    } else {
      fw = {
        id,
        info: { ...info, id: { value: id } },
        stream: null,
        failoverTimer: null,
        filters: new Map(),
      };
      this.#frameworks.set(id, fw);
    }
    const framework = fw;
    framework.stream = { id: streamId, response: res };
    res.on('close', () => {
      if (framework.stream?.response === res) this.#disconnected(framework);
    });
    this.calls.push(call);
    this.#send(id, {
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: { value: id },
        heartbeat_interval_seconds: this.#options.heartbeatIntervalSeconds ?? 15,
      },
    });
    // Reliable updates the framework has not acknowledged are sent again.
    for (const task of this.#tasks.values())
      if (task.frameworkId === id && task.unacked)
        this.#send(id, { type: 'UPDATE', update: { status: task.unacked } });
    setImmediate(() => this.#allocate());
  }

  #disconnected(fw: SimFramework): void {
    fw.stream = null;
    // Its outstanding offers go back to the pool.
    for (const [offerId, offer] of this.#offers)
      if (offer.frameworkId === fw.id) this.#offers.delete(offerId);
    const timeoutMs = (fw.info.failover_timeout ?? 0) * 1000;
    fw.failoverTimer = setTimeout(() => void this.#removeFramework(fw), timeoutMs);
  }

  async #removeFramework(fw: SimFramework): Promise<void> {
    this.#frameworks.delete(fw.id);
    this.#removedFrameworks.add(fw.id);
    fw.stream?.response.destroy();
    for (const task of this.#tasks.values()) {
      if (task.frameworkId !== fw.id || isTerminal(task.state)) continue;
      task.stop.abort();
      if (task.containerId) await this.#docker.removeContainer(task.containerId).catch(() => undefined);
      task.state = 'TASK_KILLED';
    }
  }

  async #handle(fw: SimFramework, call: Exclude<Call, { type: 'SUBSCRIBE' }>): Promise<void> {
    switch (call.type) {
      case 'ACCEPT':
        return this.#accept(fw, call.accept);
      case 'DECLINE':
        for (const { value } of call.decline.offer_ids) {
          const offer = this.#offers.get(value);
          if (!offer || offer.frameworkId !== fw.id) continue;
          this.#offers.delete(value);
          this.#refuse(fw, offer.agentId, call.decline.filters?.refuse_seconds);
        }
        return;
      case 'REVIVE':
        fw.filters.clear();
        return this.#allocate();
      case 'KILL':
        return this.#kill(fw, call.kill.task_id.value);
      case 'ACKNOWLEDGE': {
        const task = this.#tasks.get(`${fw.id}/${call.acknowledge.task_id.value}`);
        if (task?.unacked?.uuid === call.acknowledge.uuid) task.unacked = null;
        return;
      }
      case 'RECONCILE':
        return this.#reconcile(
          fw,
          call.reconcile.tasks.map((t) => t.task_id.value),
        );
      case 'TEARDOWN':
        return this.#removeFramework(fw);
    }
  }

  #refuse(fw: SimFramework, agentId: string, seconds: number | undefined): void {
    fw.filters.set(agentId, Date.now() + (seconds ?? DEFAULT_REFUSE_SECONDS) * 1000);
  }

  // ---------------------------------------------------------------------------------------------
  // Offers

  #allocate(): void {
    const offers = new Map<string, Offer[]>();
    for (const fw of this.#frameworks.values()) {
      if (!fw.stream) continue;
      for (const agent of this.#agents) {
        if (agent.removed || (fw.filters.get(agent.id) ?? 0) > Date.now()) continue;
        if ([...this.#offers.values()].some((o) => o.agentId === agent.id)) continue;
        const free = this.#free(agent);
        if (free.cpus < 0.01 || free.mem < 32 || free.ports.length === 0) continue;
        const id = `${this.#clusterId}-${this.#runId}-O${this.#seq++}`;
        const resources: Resource[] = [
          scalar('cpus', round(free.cpus)),
          scalar('mem', free.mem),
          ...portRanges(free.ports),
        ];
        const offer: Offer = {
          id: { value: id },
          framework_id: { value: fw.id },
          agent_id: { value: agent.id },
          hostname: agent.hostname,
          url: {
            scheme: 'http',
            address: { hostname: agent.hostname, ip: agent.hostname, port: Number(new URL(agent.url).port) },
            path: '/slave(1)',
          },
          resources,
        };
        this.#offers.set(id, {
          offer,
          frameworkId: fw.id,
          agentId: agent.id,
          cpus: free.cpus,
          mem: free.mem,
          ports: free.ports,
        });
        offers.set(fw.id, [...(offers.get(fw.id) ?? []), offer]);
      }
    }
    for (const [fwId, list] of offers) this.#send(fwId, { type: 'OFFERS', offers: { offers: list } });
  }

  #free(agent: SimAgent): { cpus: number; mem: number; ports: number[] } {
    let cpus = agent.cpus;
    let mem = agent.memMB;
    const used = new Set<number>();
    for (const t of this.#tasks.values()) {
      if (t.agentId !== agent.id || isTerminal(t.state)) continue;
      cpus -= scalarOf(t.info.resources, 'cpus');
      mem -= scalarOf(t.info.resources, 'mem');
      for (const p of portsOf(t.info.resources)) used.add(p);
    }
    for (const o of this.#offers.values()) {
      if (o.agentId !== agent.id) continue;
      cpus -= o.cpus;
      mem -= o.mem;
      for (const p of o.ports) used.add(p);
    }
    const ports: number[] = [];
    for (let p = agent.ports[0]; p <= agent.ports[1]; p++) if (!used.has(p)) ports.push(p);
    return { cpus, mem, ports };
  }

  async #accept(fw: SimFramework, accept: Extract<Call, { type: 'ACCEPT' }>['accept']): Promise<void> {
    const tasks = accept.operations.flatMap((op) => (op.type === 'LAUNCH' ? op.launch.task_infos : []));
    const offers = accept.offer_ids.map(({ value }) => this.#offers.get(value));
    const invalid = offers.some((o) => !o || o.frameworkId !== fw.id) || offers.length === 0;
    // Offers are used once, valid or not; their remainder is declined with the call's filter.
    for (const o of offers) {
      if (!o || o.frameworkId !== fw.id) continue;
      this.#offers.delete(o.offer.id.value);
      this.#refuse(fw, o.agentId, accept.filters?.refuse_seconds);
    }
    if (invalid) {
      for (const t of tasks)
        this.#masterUpdate(fw.id, t, 'TASK_LOST', 'REASON_INVALID_OFFERS', 'Offer is no longer valid');
      return;
    }
    const room = {
      cpus: sum(offers, 'cpus'),
      mem: sum(offers, 'mem'),
      ports: new Set(offers.flatMap((o) => o!.ports)),
    };
    const agentId = offers[0]!.agentId;
    for (const info of tasks) {
      const key = `${fw.id}/${info.task_id.value}`;
      const existing = this.#tasks.get(key);
      if (existing && !isTerminal(existing.state)) {
        this.#masterUpdate(
          fw.id,
          info,
          'TASK_ERROR',
          'REASON_TASK_INVALID',
          `Task has duplicate ID: ${info.task_id.value}`,
        );
        continue;
      }
      const cpus = scalarOf(info.resources, 'cpus');
      const mem = scalarOf(info.resources, 'mem');
      const ports = portsOf(info.resources);
      const mapped = info.container?.docker?.port_mappings ?? [];
      const error =
        info.agent_id.value !== agentId
          ? "Task uses an agent other than the offer's"
          : cpus > room.cpus + 1e-9 || mem > room.mem || ports.some((p) => !room.ports.has(p))
            ? 'Task uses more resources than offered'
            : info.container?.type !== 'DOCKER' || !info.container.docker?.image
              ? 'Only tasks with a DOCKER container are supported by this simulator'
              : mapped.some((m) => !ports.includes(m.host_port))
                ? 'Port mappings use ports the task does not hold'
                : null;
      if (error) {
        this.#masterUpdate(fw.id, info, 'TASK_ERROR', 'REASON_TASK_INVALID', error);
        continue;
      }
      room.cpus -= cpus;
      room.mem -= mem;
      for (const p of ports) room.ports.delete(p);
      this.#launch(fw, info, agentId);
    }
  }

  #launch(fw: SimFramework, info: TaskInfo, agentId: string, containerId: string | null = null): SimTask {
    const containerRun = randomUUID();
    const directory = join(
      this.#options.workDir,
      'slaves',
      agentId,
      'frameworks',
      fw.id,
      'executors',
      info.task_id.value,
      'runs',
      containerRun,
    );
    const status: TaskStatus = {
      task_id: info.task_id,
      state: 'TASK_STAGING',
      agent_id: { value: agentId },
      source: 'SOURCE_MASTER',
    };
    const task: SimTask = {
      info,
      frameworkId: fw.id,
      agentId,
      state: 'TASK_STAGING',
      lastStatus: status,
      unacked: null,
      containerId,
      directory,
      killRequested: false,
      stop: new AbortController(),
    };
    this.#tasks.set(`${fw.id}/${info.task_id.value}`, task);
    if (containerId === null) void this.#run(task, fw);
    return task;
  }

  /** The agent's part: sandbox, docker create + start, logs into the sandbox, exit → status. */
  async #run(task: SimTask, fw: SimFramework): Promise<void> {
    const agent = this.#agents.find((a) => a.id === task.agentId)!;
    const docker = task.info.container!.docker!;
    try {
      mkdirSync(task.directory, { recursive: true });
      const latest = join(task.directory, '..', 'latest');
      try {
        symlinkSync(task.directory, latest);
      } catch {
        // a previous run of the same task id: `latest` stays on it (simulator simplification)
      }
      const env = (task.info.command?.environment?.variables ?? []).map((v) => `${v.name}=${v.value}`);
      env.push(`MESOS_TASK_ID=${task.info.task_id.value}`, `MESOS_SANDBOX=/mnt/mesos/sandbox`);
      const mem = scalarOf(task.info.resources, 'mem') * 1024 * 1024;
      const created = await this.#docker.createContainer(`mesos-${randomUUID()}`, {
        Image: docker.image,
        Env: env,
        Labels: {
          [`${LABEL}cluster`]: this.#clusterId,
          [`${LABEL}agent`]: task.agentId,
          [`${LABEL}framework`]: task.frameworkId,
          [`${LABEL}failover-timeout`]: String(fw.info.failover_timeout ?? 0),
          [`${LABEL}task`]: task.info.task_id.value,
          [`${LABEL}sandbox`]: task.directory,
          [`${LABEL}task-info`]: JSON.stringify(task.info),
        },
        ExposedPorts: Object.fromEntries(
          (docker.port_mappings ?? []).map((m) => [`${m.container_port}/tcp`, {}]),
        ),
        HostConfig: {
          Memory: mem,
          MemorySwap: mem,
          CpuShares: Math.max(2, Math.round(scalarOf(task.info.resources, 'cpus') * 1024)),
          NetworkMode: 'bridge',
          PortBindings: Object.fromEntries(
            (docker.port_mappings ?? []).map((m) => [
              `${m.container_port}/tcp`,
              [{ HostIp: agent.hostname, HostPort: String(m.host_port) }],
            ]),
          ),
        },
      });
      if (created === null) throw new Error('container name taken');
      task.containerId = created.Id;
      await this.#docker.startContainer(created.Id);
    } catch (err) {
      if (task.containerId) await this.#docker.removeContainer(task.containerId).catch(() => undefined);
      this.#update(task, 'TASK_FAILED', {
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        source: 'SOURCE_AGENT',
        message: `Failed to launch container: ${(err as Error).message}`,
      });
      return;
    }
    if (task.killRequested) return this.#killContainer(task);
    this.#follow(task);
    this.#update(task, 'TASK_RUNNING', { source: 'SOURCE_EXECUTOR' });
  }

  /** Copies the container's output into the sandbox and turns its exit into a status update. */
  #follow(task: SimTask): void {
    const id = task.containerId!;
    const signal = task.stop.signal;
    const files: Record<'stdout' | 'stderr', WriteStream> = {
      stdout: createWriteStream(join(task.directory, 'stdout'), { flags: 'a' }),
      stderr: createWriteStream(join(task.directory, 'stderr'), { flags: 'a' }),
    };
    const pump = async (): Promise<void> => {
      // The engine client gives up on a stream silent for 5 minutes: follow again from then on.
      for (let since: number | undefined; !signal.aborted; since = Math.floor(Date.now() / 1000)) {
        const demuxer = new DockerFrameDemuxer();
        const stream = await this.#docker.followLogs(id, signal, { timestamps: false, since });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>)
            demuxer.push(chunk, (s, payload) => files[s].write(payload));
        } catch {
          // timed out or aborted: the loop decides
        }
        if (!(await this.#docker.inspectContainer(id))?.State.Running) return;
      }
    };
    void pump()
      .catch(() => undefined)
      .finally(() => {
        files.stdout.end();
        files.stderr.end();
      });
    const watch = async (): Promise<void> => {
      for (;;) {
        await this.#docker.waitForStop(id, signal).catch(() => undefined);
        if (signal.aborted || isTerminal(task.state)) return;
        const container = await this.#docker.inspectContainer(id);
        if (container?.State.Running) continue; // the wait timed out
        if (task.killRequested) return;
        const code = container?.State.ExitCode ?? -1;
        const oom = container?.State.OOMKilled ?? false;
        await this.#docker.removeContainer(id).catch(() => undefined);
        if (code === 0 && !oom)
          this.#update(task, 'TASK_FINISHED', {
            source: 'SOURCE_EXECUTOR',
            message: 'Container exited with status 0',
          });
        else
          this.#update(task, 'TASK_FAILED', {
            source: 'SOURCE_EXECUTOR',
            message: oom ? 'Memory limit exceeded' : `Container exited with status ${code}`,
            ...(oom ? { reason: 'REASON_CONTAINER_LIMITATION_MEMORY' } : {}),
          });
        return;
      }
    };
    void watch();
  }

  async #kill(fw: SimFramework, taskId: string): Promise<void> {
    const task = this.#tasks.get(`${fw.id}/${taskId}`);
    if (!task || isTerminal(task.state)) {
      this.#send(fw.id, {
        type: 'UPDATE',
        update: {
          status: {
            task_id: { value: taskId },
            state: 'TASK_LOST',
            source: 'SOURCE_MASTER',
            reason: 'REASON_RECONCILIATION',
            message: 'Attempted to kill an unknown task',
          },
        },
      });
      return;
    }
    task.killRequested = true;
    if (task.containerId) await this.#killContainer(task);
  }

  async #killContainer(task: SimTask): Promise<void> {
    task.stop.abort();
    if (task.containerId) await this.#docker.removeContainer(task.containerId).catch(() => undefined);
    this.#update(task, 'TASK_KILLED', { source: 'SOURCE_EXECUTOR', message: 'Container killed' });
  }

  #reconcile(fw: SimFramework, taskIds: string[]): void {
    const known = (t: SimTask | undefined): t is SimTask => t !== undefined && !isTerminal(t.state);
    const answer = (status: TaskStatus): void => {
      const { uuid: _uuid, ...rest } = status;
      this.#send(fw.id, {
        type: 'UPDATE',
        update: { status: { ...rest, reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' } },
      });
    };
    if (taskIds.length === 0) {
      for (const t of this.#tasks.values()) if (t.frameworkId === fw.id && known(t)) answer(t.lastStatus);
      return;
    }
    for (const id of taskIds) {
      const t = this.#tasks.get(`${fw.id}/${id}`);
      if (known(t)) answer(t.lastStatus);
      else answer({ task_id: { value: id }, state: 'TASK_LOST', message: 'Reconciliation: Task is unknown' });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Status updates

  /** An agent/executor update: reliable (uuid), kept until acknowledged. */
  #update(task: SimTask, state: TaskState, extra: Partial<TaskStatus>): void {
    if (isTerminal(task.state)) return;
    task.state = state;
    const status: TaskStatus = {
      task_id: task.info.task_id,
      state,
      agent_id: { value: task.agentId },
      timestamp: Date.now() / 1000,
      uuid: randomBytes(16).toString('base64'),
      ...extra,
    };
    task.lastStatus = status;
    task.unacked = status;
    this.#send(task.frameworkId, { type: 'UPDATE', update: { status } });
    if (isTerminal(state)) setImmediate(() => this.#allocate());
  }

  /** A master-generated update about a task that never launched: not retried, no uuid. */
  #masterUpdate(
    frameworkId: string,
    info: TaskInfo,
    state: TaskState,
    reason: string,
    message: string,
  ): void {
    this.#send(frameworkId, {
      type: 'UPDATE',
      update: {
        status: {
          task_id: info.task_id,
          state,
          reason,
          message,
          source: 'SOURCE_MASTER',
          agent_id: info.agent_id,
        },
      },
    });
  }

  #send(frameworkId: string, event: Event): void {
    const stream = this.#frameworks.get(frameworkId)?.stream;
    // Events for a disconnected framework are dropped (reliable updates are resent on re-subscription).
    if (stream) stream.response.write(encodeRecord(JSON.stringify(event)));
  }

  #broadcast(event: Event): void {
    for (const fw of this.#frameworks.values()) this.#send(fw.id, event);
  }

  // ---------------------------------------------------------------------------------------------
  // Agents

  async #startAgent(config: SimAgentConfig, index: number): Promise<void> {
    const id = `${this.#clusterId}-S${index}`;
    const server = createServer((req, res) => this.#agentRoute(id, req, res));
    await new Promise<void>((resolve) => server.listen(config.httpPort ?? 0, config.hostname, resolve));
    const url = `http://${config.hostname}:${(server.address() as AddressInfo).port}`;
    this.#agents.push({ ...config, id, server, url, removed: false });
  }

  #agentRoute(agentId: string, req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname === '/state') {
      const frameworks = new Map<string, { id: string; executors: unknown[] }>();
      for (const t of this.#tasks.values()) {
        if (t.agentId !== agentId) continue;
        const fw = frameworks.get(t.frameworkId) ?? { id: t.frameworkId, executors: [] };
        frameworks.set(t.frameworkId, fw);
        fw.executors.push({
          id: t.info.task_id.value,
          directory: t.directory,
          tasks: [{ id: t.info.task_id.value, state: t.state }],
        });
      }
      const agent = this.#agents.find((a) => a.id === agentId)!;
      return json(res, 200, {
        id: agentId,
        hostname: agent.hostname,
        flags: { work_dir: this.#options.workDir },
        frameworks: [...frameworks.values()],
        completed_frameworks: [],
      });
    }
    if (url.pathname === '/files/read') {
      const path = url.searchParams.get('path') ?? '';
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const length = Number(url.searchParams.get('length') ?? 1024 * 1024);
      if (!path.startsWith(join(this.#options.workDir, 'slaves', agentId) + '/'))
        return void res.writeHead(404).end(`No such file or directory '${path}'`);
      return readRange(res, path, offset, length);
    }
    res.writeHead(404).end();
  }

  /** Agents re-register after a master restart: tasks come back from their running containers. */
  async #recover(): Promise<void> {
    const containers = await this.#docker.listContainers([`${LABEL}cluster=${this.#clusterId}`]);
    for (const c of containers) {
      const labels = c.Labels ?? {};
      const agentId = labels[`${LABEL}agent`] ?? '';
      const frameworkId = labels[`${LABEL}framework`] ?? '';
      if (c.State !== 'running' || !this.#agents.some((a) => a.id === agentId)) {
        await this.#docker.removeContainer(c.Id).catch(() => undefined);
        continue;
      }
      let fw = this.#frameworks.get(frameworkId);
      if (!fw) {
        fw = {
          id: frameworkId,
          info: {
            user: 'recovered',
            name: 'recovered',
            id: { value: frameworkId },
            failover_timeout: Number(labels[`${LABEL}failover-timeout`] ?? 0),
          },
          stream: null,
          failoverTimer: null,
          filters: new Map(),
        };
        this.#frameworks.set(frameworkId, fw);
        this.#disconnected(fw);
      }
      const info = JSON.parse(labels[`${LABEL}task-info`] ?? '{}') as TaskInfo;
      const task = this.#launch(fw, info, agentId, c.Id);
      task.directory = labels[`${LABEL}sandbox`] ?? task.directory;
      task.state = 'TASK_RUNNING';
      task.lastStatus = {
        task_id: info.task_id,
        state: 'TASK_RUNNING',
        agent_id: { value: agentId },
        source: 'SOURCE_EXECUTOR',
      };
      this.#follow(task);
    }
  }

  #masterState(): unknown {
    return {
      id: this.#clusterId,
      frameworks: this.frameworks(),
      agents: this.agents(),
      tasks: this.tasks(),
      simulator: 'SIMULATOR (not Apache Mesos): Gust test harness',
    };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `/files/read`: offset -1 answers the size; a read never ends inside a UTF-8 character. */
function readRange(res: ServerResponse, path: string, offset: number, length: number): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return void res.writeHead(404).end(`No such file or directory '${path}'`);
  }
  if (offset === -1) return json(res, 200, { data: '', offset: size });
  const count = Math.max(0, Math.min(length, size - offset));
  const buffer = Buffer.alloc(count);
  if (count > 0) {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, count, offset);
    } finally {
      closeSync(fd);
    }
  }
  let end = count;
  // Back off to the start of a multi-byte character that the read would cut.
  for (let i = count - 1; i >= 0 && i >= count - 4; i--) {
    const byte = buffer[i]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (count - i < need) end = i;
    break;
  }
  json(res, 200, { data: buffer.subarray(0, end).toString('utf8'), offset });
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function sum(offers: (SimOffer | undefined)[], key: 'cpus' | 'mem'): number {
  return offers.reduce((s, o) => s + (o?.[key] ?? 0), 0);
}

/** Ports as the fewest ranges. */
function portRanges(ports: number[]): Resource[] {
  const range: { begin: number; end: number }[] = [];
  for (const p of ports) {
    const last = range[range.length - 1];
    if (last && last.end === p - 1) last.end = p;
    else range.push({ begin: p, end: p });
  }
  return [{ name: 'ports', type: 'RANGES', ranges: { range } }];
}
