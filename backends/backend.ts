// The one interface every container backend implements (docker, process, kubernetes, …).
import type { ContainerInfo, ContainerSpec } from '../common/types';

/**
 * An exit or OOM kill. `name` and `labels` (Gust's labels) come with the event where the engine
 * sends them (Docker does), so a container already removed can still be told apart.
 */
export type ContainerEvent = ({ type: 'exit'; exitCode: number } | { type: 'oom' }) & {
  containerId: string;
  name?: string;
  labels?: Record<string, string>;
};

export interface LogCollectOptions {
  /** The action's `limits.logs` in bytes; past it the rest is dropped and OpenWhisk's truncation notice appended. */
  limitBytes: number;
  /** Give up after this long (OpenWhisk: `max(5, logsMB) × 2 s`); a missing sentinel appends OpenWhisk's collection warning. */
  waitMs: number;
  /**
   * false when no sentinel will come (after a developer error, or a blackbox image that prints
   * none): take what arrives until the stream is quiet for 100 ms. @default true
   */
  sentinels?: boolean;
}

/**
 * Reads a container's output activation by activation, split at OpenWhisk's sentinels
 * (docs/reference/openwhisk-contract.md §6.5). Call `next` once per activation, in order, never two
 * at a time. The reader reads the container's output from its start, so create it before the first
 * /init (output of a good /init belongs to the first activation). Not for containers with
 * overlapping runs: their logs cannot be split.
 */
export interface ActivationLogReader {
  /** Lines of the next activation, each `<timestamp> <stream>: <text>` (`%-30s %s: %s`). */
  next(options: LogCollectOptions): Promise<string[]>;
  close(): void;
}

/** What the engine knows of a container; `oomKilled` is how a caller learns it died of OOM. */
export interface ContainerState {
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
}

/**
 * The controller's port to the host its containers run on: its hot path needs their activation
 * logs, their state after a failed call (an OOM kill?), and, where the backend keeps them, the
 * runtimes' secrets; nothing else of a backend. The backend of the controller's own machine serves
 * it in the controller's process; other Docker hosts' agents serve the same over HTTP, never
 * through Temporal, since it is on the hot path (backends/host-routes.ts; docs/design.md
 * "Several Docker hosts").
 */
export type ContainerHostAccess = Pick<ContainerBackend, 'logs' | 'state' | 'runtimeSecret'>;

export interface ContainerBackend {
  readonly name: string;
  /** Creates and starts a container and waits until its runtime accepts connections. Idempotent by `spec.name`. */
  create(spec: ContainerSpec, options?: { signal?: AbortSignal }): Promise<ContainerInfo>;
  /** Removes a container; removing one that is already gone succeeds. */
  destroy(containerId: string): Promise<void>;
  /** Containers carrying all of `labels`. */
  list(labels: Record<string, string>): Promise<ContainerInfo[]>;
  logs(container: ContainerInfo): ActivationLogReader;
  /**
   * Current state, or null when the container does not exist. Ask it after a connection error on
   * /init or /run with `awaitExitMs` (say 2000): the connection can break before the engine has
   * recorded the exit, so this waits up to that long for the container to stop before answering.
   */
  state(containerId: string, options?: { awaitExitMs?: number }): Promise<ContainerState | null>;
  /**
   * The per-container secret of the runtime at an http `address`, for backends that keep it
   * themselves (kubernetes). Unix-socket runtimes' secrets are files (runtimes/runtime-address.ts).
   */
  runtimeSecret?(address: string): Promise<string | undefined>;
  /** Throws with a clear message when the backend cannot be used. */
  health(): Promise<void>;
  /** Exit and OOM events; returns an unsubscribe function. */
  onEvent(listener: (event: ContainerEvent) => void): () => void;
  close(): Promise<void>;
}

/**
 * A backend's `health()`: runs `probe`, and turns its failure into "<engine> does not answer:
 * <why>" with the failure as cause. `engine` may read the failure (an HTTP status to name).
 */
export async function answerOrThrow(
  engine: string | ((err: unknown) => string),
  probe: () => Promise<unknown>,
): Promise<void> {
  try {
    await probe();
  } catch (err) {
    const what = typeof engine === 'string' ? engine : engine(err);
    throw new Error(`${what} does not answer: ${(err as Error).message}`, { cause: err });
  }
}
