// A task's output, read from its sandbox through the agent's files API (`/files/read` of
// `<sandbox>/stdout` and `<sandbox>/stderr`) into an ActivationLogReader with OpenWhisk's sentinel
// framing. The files keep everything, so the reader polls only while an activation's logs are awaited,
// and always from where it stopped: the first `next` starts at offset 0 (the task's start).
import type { ActivationLogReader, LogCollectOptions } from '../backend';
import { QueuedActivationLogReader } from '../logs/activation-log-reader';
import { LineAssembler } from '../logs/line-assembler';
import { nowTimestamp, type LogStream } from '../logs/log-line';
import { agentApi } from './api';

/** Where a task's sandbox is: the agent's URL and the executor's directory on it. */
export interface SandboxLocation {
  agentUrl: string;
  directory: string;
}

const POLL_MS = 25;
const READ_BYTES = 1024 * 1024;

/** Finds the sandbox of `taskId` (its executor has the task's id) in the agent's `/state`. */
export async function locateSandbox(
  agentUrl: string,
  frameworkId: string,
  taskId: string,
): Promise<SandboxLocation | null> {
  const state = await agentApi.state(agentUrl);
  for (const framework of [...state.frameworks, ...(state.completed_frameworks ?? [])]) {
    if (framework.id !== frameworkId) continue;
    const executor = framework.executors.find((e) => e.id === taskId || e.tasks.some((t) => t.id === taskId));
    if (executor) return { agentUrl, directory: executor.directory };
  }
  return null;
}

export class SandboxLogReader implements ActivationLogReader {
  readonly #inner = new QueuedActivationLogReader();
  readonly #assembler = new LineAssembler();
  readonly #offsets: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  readonly #locate: () => Promise<SandboxLocation | null>;
  #location: SandboxLocation | null = null;
  #closed = false;

  constructor(locate: () => Promise<SandboxLocation | null>) {
    this.#locate = locate;
  }

  async next(options: LogCollectOptions): Promise<string[]> {
    const stop = new AbortController();
    const polling = this.#poll(stop.signal);
    try {
      return await this.#inner.next(options);
    } finally {
      stop.abort();
      await polling;
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.#closed) {
      try {
        await this.#readNew(signal);
      } catch {
        // agent busy or gone: the activation's wait ends with OpenWhisk's collection notice
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }

  async #readNew(signal: AbortSignal): Promise<void> {
    this.#location ??= await this.#locate();
    const location = this.#location;
    if (location === null) return;
    const push = this.#inner.push.bind(this.#inner);
    for (const stream of ['stdout', 'stderr'] as const) {
      for (;;) {
        const read = await agentApi.readFile(
          location.agentUrl,
          `${location.directory}/${stream}`,
          this.#offsets[stream],
          READ_BYTES,
          signal,
        );
        if (read === null || read.data === '') break;
        this.#offsets[stream] += Buffer.byteLength(read.data);
        this.#assembler.push(stream, read.data, nowTimestamp(), push);
        if (Buffer.byteLength(read.data) < READ_BYTES) break;
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#inner.close();
  }
}
