// The process backend: each "container" is the Node.js runtime as a child process, listening on a
// unix socket in its own directory (runtimes/runtime-address.ts) and asking for its secret.
// For tests and machines without Docker. It isolates NOTHING: no memory, CPU, pid, file or
// network limits; actions run with this user's rights. It cannot run images (blackbox actions).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../common/logger';
import type { ContainerInfo, ContainerSpec } from '../../common/types';
import { nodejsRuntimeEntry } from '../../runtimes/nodejs/runtime-entry';
import { unixAddress } from '../../runtimes/runtime-address';
import type { ActivationLogReader, ContainerBackend, ContainerEvent, ContainerState } from '../backend';
import { containerLabels } from '../container-labels';
import { QueuedActivationLogReader } from '../logs/activation-log-reader';
import { LineAssembler } from '../logs/line-assembler';
import { nowTimestamp } from '../logs/log-line';

export interface ProcessBackendOptions {
  hostId: string;
  /** The compiled runtime (`runtimes/nodejs/build/app.js`). @default found by nodejsRuntimeEntry() */
  runtimeEntry?: string;
  /** How long a child may take to listen. @default 10000 */
  readyTimeoutMs?: number;
  /** Log the no-isolation warning. @default true */
  warn?: boolean;
  /** Where that warning goes. @default a pino logger at `warn` */
  log?: Logger;
}

interface Child {
  info: ContainerInfo;
  process: ChildProcess;
  state: ContainerState;
  exited: Promise<void>;
  /** Output before the first `logs()` call waits here, so the first reader sees it all. */
  firstReader: QueuedActivationLogReader | undefined;
  readers: Set<QueuedActivationLogReader>;
}

const WARNING =
  'GUST PROCESS BACKEND: actions run as plain child processes of this process. There is NO ' +
  'isolation: no memory/CPU/pid limits, full access to files and network as this user. Use it ' +
  'for tests and development only.';

export class ProcessBackend implements ContainerBackend {
  readonly name = 'process';
  readonly #hostId: string;
  readonly #entry: string;
  readonly #readyTimeoutMs: number;
  readonly #children = new Map<string, Child>();
  readonly #listeners = new Set<(event: ContainerEvent) => void>();
  /** Kills the children if this process exits without close() (they also exit when our IPC closes). */
  readonly #killAll = (): void => {
    for (const child of this.#children.values()) child.process.kill('SIGKILL');
  };

  constructor(options: ProcessBackendOptions) {
    if (!options.hostId) throw new Error('ProcessBackend: hostId is required');
    this.#hostId = options.hostId;
    this.#entry = options.runtimeEntry ?? nodejsRuntimeEntry();
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    if (options.warn ?? true) (options.log ?? createLogger()).warn({ backend: this.name }, WARNING);
    process.on('exit', this.#killAll);
  }

  async create(spec: ContainerSpec, options: { signal?: AbortSignal } = {}): Promise<ContainerInfo> {
    for (const child of this.#children.values()) if (child.info.name === spec.name) return child.info;
    if (!spec.kind.startsWith('nodejs')) {
      throw new Error(
        `the process backend runs only the Node.js runtime, not image '${spec.image}' (kind ${spec.kind}); use the docker backend`,
      );
    }
    // The child's own scratch directory stands in for a container's filesystem (extracted
    // archives go there); it is removed when the child exits, however it exits.
    const dir = mkdtempSync(join(tmpdir(), 'gust-process-'));
    const scratch = join(dir, 'rt');
    mkdirSync(scratch);
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...spec.env,
      TMPDIR: scratch,
      GUST_RUNTIME_SOCKET: join(scratch, 'runtime.sock'),
      GUST_RUNTIME_SECRET: secret,
    };
    const child = spawn(process.execPath, [this.#entry], {
      env,
      cwd: scratch,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const socket = await this.#waitForSocket(child, options.signal);
    const id = `process-${child.pid}`;
    const info: ContainerInfo = {
      id,
      name: spec.name,
      host: this.#hostId,
      backend: this.name,
      address: unixAddress(socket),
      kind: spec.kind,
      memoryMB: spec.memoryMB,
      labels: containerLabels(spec, this.#hostId),
      createdAt: Date.now(),
    };
    const entry: Child = {
      info,
      process: child,
      state: { running: true, exitCode: null, oomKilled: false },
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
      firstReader: undefined,
      readers: new Set(),
    };
    const first: QueuedActivationLogReader = new QueuedActivationLogReader({
      onClose: () => entry.readers.delete(first),
    });
    entry.firstReader = first;
    this.#attachOutput(entry);
    child.once('exit', (code, signal) => this.#onExit(entry, code, signal));
    this.#children.set(id, entry);
    return info;
  }

  #waitForSocket(child: ChildProcess, signal: AbortSignal | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        cleanup();
        child.kill('SIGKILL');
        reject(error);
      };
      const onMessage = (message: unknown): void => {
        const socket = (message as { socket?: unknown } | null)?.socket;
        if (typeof socket !== 'string') return;
        cleanup();
        resolve(socket);
      };
      const onExit = (code: number | null): void =>
        fail(new Error(`the runtime exited with code ${code} before listening`));
      const onAbort = (): void => fail(new Error('create aborted'));
      const timer = setTimeout(
        () => fail(new Error(`the runtime did not listen within ${this.#readyTimeoutMs} ms`)),
        this.#readyTimeoutMs,
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Always drains both pipes (a full pipe would block the action) into the readers. */
  #attachOutput(entry: Child): void {
    const assembler = new LineAssembler();
    const deliver = (line: Parameters<QueuedActivationLogReader['push']>[0]): void => {
      entry.firstReader?.push(line);
      for (const reader of entry.readers) reader.push(line);
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      const pipe = entry.process[stream]!;
      pipe.setEncoding('utf8');
      pipe.on('data', (text: string) => assembler.push(stream, text, nowTimestamp(), deliver));
    }
    entry.process.once('close', () => {
      assembler.flush(deliver);
      entry.firstReader?.end();
      for (const reader of entry.readers) reader.end();
    });
  }

  #onExit(entry: Child, code: number | null, signal: NodeJS.Signals | null): void {
    // Docker reports a signal death as 128 + signal number; do the same.
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 0);
    entry.state = { running: false, exitCode, oomKilled: false };
    this.#emit({ type: 'exit', containerId: entry.info.id, exitCode });
  }

  #emit(event: ContainerEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  async destroy(containerId: string): Promise<void> {
    const entry = this.#children.get(containerId);
    if (entry === undefined) return;
    if (entry.state.running) entry.process.kill('SIGKILL');
    await entry.exited;
    this.#children.delete(containerId);
    entry.firstReader?.close();
    for (const reader of entry.readers) reader.close();
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const wanted = Object.entries(labels);
    return [...this.#children.values()]
      .map((child) => child.info)
      .filter((info) => wanted.every(([key, value]) => info.labels[key] === value));
  }

  logs(container: ContainerInfo): ActivationLogReader {
    const entry = this.#children.get(container.id);
    if (entry === undefined) throw new Error(`no such container: ${container.id}`);
    const first = entry.firstReader;
    if (first !== undefined) {
      entry.firstReader = undefined;
      entry.readers.add(first);
      return first;
    }
    const reader: QueuedActivationLogReader = new QueuedActivationLogReader({
      onClose: () => entry.readers.delete(reader),
    });
    if (!entry.state.running) reader.end();
    entry.readers.add(reader);
    return reader;
  }

  async state(containerId: string, options: { awaitExitMs?: number } = {}): Promise<ContainerState | null> {
    const entry = this.#children.get(containerId);
    if (entry === undefined) return null;
    const wait = options.awaitExitMs ?? 0;
    if (entry.state.running && wait > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.exited, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]);
      clearTimeout(timer);
    }
    return entry.state;
  }

  async health(): Promise<void> {
    // The constructor already found the runtime; nothing else can be missing.
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#children.keys()].map((id) => this.destroy(id)));
    this.#listeners.clear();
    process.off('exit', this.#killAll);
  }
}
