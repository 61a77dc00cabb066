// The bench's control plane in a process of its own: the provisioner (workflows and cluster
// activities) and the bench host's agent, composed by workers/embedded.ts as a production
// deployment runs them apart from the controller (docs/design.md "Processes"). The controller's
// process then carries only the controller, so its CPU per request is the controller's, and
// container creation does not share its thread.
//
// Parent side: `startControlPlaneProcess(config, scope)`; child side: this file run by fork().
// Messages child → parent: ready, a create seen by the agent (for the suite's "creates settled"
// wait), stopped (with how many of the host's containers it removed). Parent → child: stop. The
// child stops itself when the parent goes away.
import { fork } from 'node:child_process';
import type {
  ActivationLogReader,
  ContainerBackend,
  ContainerEvent,
  ContainerState,
} from '../../backends/backend';
import type { GustConfig } from '../../common/config';
import { createLogger } from '../../common/logger';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import { createAgentBackend } from '../../workers/agent';
import { startEmbeddedGust } from '../../workers/embedded';
import { installTemporalRuntime } from '../../workers/temporal';
import type { Scope } from '../../workflows/scope';

type ToParent =
  | { type: 'ready' }
  | { type: 'create'; allowConcurrentSetByPlatform: boolean }
  | { type: 'stopped'; containersRemoved: number }
  | { type: 'failed'; message: string };

/**
 * The agent's backend, unchanged except that every container may overlap /run calls
 * (`__OW_ALLOW_CONCURRENT=true`): actions with `limits.concurrency` > 1 need it. Reports whether
 * the platform already set it.
 */
class ConcurrentRunsBackend implements ContainerBackend {
  readonly name: string;

  constructor(
    readonly inner: ContainerBackend,
    readonly onCreate: (allowConcurrentSetByPlatform: boolean) => void,
  ) {
    this.name = inner.name;
  }
  create(spec: ContainerSpec, options?: { signal?: AbortSignal }): Promise<ContainerInfo> {
    this.onCreate(spec.env.__OW_ALLOW_CONCURRENT === 'true');
    return this.inner.create({ ...spec, env: { __OW_ALLOW_CONCURRENT: 'true', ...spec.env } }, options);
  }
  destroy(containerId: string): Promise<void> {
    return this.inner.destroy(containerId);
  }
  list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    return this.inner.list(labels);
  }
  logs(container: ContainerInfo): ActivationLogReader {
    return this.inner.logs(container);
  }
  state(containerId: string, options?: { awaitExitMs?: number }): Promise<ContainerState | null> {
    return this.inner.state(containerId, options);
  }
  health(): Promise<void> {
    return this.inner.health();
  }
  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.inner.onEvent(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface ControlPlaneProcess {
  pid: number;
  /** Containers the agent was asked to create so far. */
  readonly creates: number;
  /** Whether a create arrived with `__OW_ALLOW_CONCURRENT` already set by the platform. */
  readonly allowConcurrentSetByPlatform: boolean;
  /** Stops the workers and removes the host's containers (the child exits). */
  stop(): Promise<{ containersRemoved: number }>;
}

/** Forks the control plane and waits until its workers poll. */
export function startControlPlaneProcess(config: GustConfig, scope: Scope): Promise<ControlPlaneProcess> {
  const child = fork(__filename, [JSON.stringify({ config, scope })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let creates = 0;
  let platformSets = false;
  let onStopped: ((containersRemoved: number) => void) | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`control plane exited (${code}) before it was ready`)));
    child.on('message', (message: ToParent) => {
      if (message.type === 'create') {
        creates++;
        if (message.allowConcurrentSetByPlatform) platformSets = true;
      } else if (message.type === 'failed') reject(new Error(`control plane: ${message.message}`));
      else if (message.type === 'stopped') onStopped?.(message.containersRemoved);
      else if (message.type === 'ready') {
        resolve({
          pid: child.pid!,
          get creates() {
            return creates;
          },
          get allowConcurrentSetByPlatform() {
            return platformSets;
          },
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return { containersRemoved: 0 };
            const stopped = new Promise<number>((done) => (onStopped = done));
            child.send({ type: 'stop' });
            // A stop that hangs (Temporal gone) must not hang the benchmark.
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
            const containersRemoved = await Promise.race([stopped, exited.then(() => 0)]);
            await exited;
            clearTimeout(timer);
            return { containersRemoved };
          },
        });
      }
    });
  });
}

async function main(): Promise<void> {
  const { config, scope } = JSON.parse(process.argv[2]!) as { config: GustConfig; scope: Scope };
  const send = (message: ToParent): void => void process.send?.(message);
  const log = createLogger(config.observability.logLevel);
  installTemporalRuntime({ log, shutdownSignals: [] });
  const backend = new ConcurrentRunsBackend(
    await createAgentBackend(config),
    (allowConcurrentSetByPlatform) => send({ type: 'create', allowConcurrentSetByPlatform }),
  );
  const gust = await startEmbeddedGust({
    config,
    parts: ['provisioner', 'agent'],
    scope,
    backend,
    schedules: false,
    log,
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const { containersRemoved } = await gust.stop().catch(() => ({ containersRemoved: 0 }));
      await backend.close().catch(() => undefined);
      send({ type: 'stopped', containersRemoved });
      process.exit(0);
    })());
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  send({ type: 'ready' });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    void process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    createLogger('error').error({ err: error }, 'the bench control plane failed');
    process.exit(1);
  });
}
