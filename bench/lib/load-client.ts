// The parent's handle on the load generator child process (bench/lib/load-worker.ts): one job at
// a time, answered over IPC. The child dies with its parent (IPC disconnect) or on `close()`.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { BurstResult, LoadJob, LoadResult, SingleResult } from './load-worker';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class LoadGenerator {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;

  constructor() {
    this.#child = fork(join(__dirname, 'load-worker.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error !== undefined) pending?.reject(new Error(`load generator: ${message.error}`));
      else pending?.resolve(message.result);
    });
    this.#child.on('exit', (code) => {
      for (const pending of this.#pending.values())
        pending.reject(new Error(`load generator exited (${code})`));
      this.#pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  run(job: Extract<LoadJob, { type: 'closed' | 'open' }>): Promise<LoadResult>;
  run(job: Extract<LoadJob, { type: 'burst' }>): Promise<BurstResult>;
  run(job: Extract<LoadJob, { type: 'single' }>): Promise<SingleResult>;
  run(job: Extract<LoadJob, { type: 'sequence' }>): Promise<SingleResult[]>;
  run(job: LoadJob): Promise<unknown> {
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, job });
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
