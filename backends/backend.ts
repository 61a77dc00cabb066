// The one interface every container backend implements (docker, process, kubernetes, …).
import type { ContainerInfo, ContainerSpec } from '../common/types';

export type ContainerEvent =
  { type: 'exit'; containerId: string; exitCode: number } | { type: 'oom'; containerId: string };

/** Reads a container's log stream activation by activation, split at OpenWhisk's sentinels. */
export interface ActivationLogReader {
  /**
   * Lines of the next activation, each `<timestamp> <stream>: <text>`, stopping once both stdout
   * and stderr have printed the sentinel or `waitMs` has passed. Past `limitBytes` the rest is
   * dropped and OpenWhisk's truncation notice appended.
   */
  next(limitBytes: number, waitMs: number): Promise<string[]>;
  close(): void;
}

export interface ContainerBackend {
  readonly name: string;
  /** Creates and starts a container and waits until its runtime accepts connections. Idempotent by `spec.name`. */
  create(spec: ContainerSpec, options?: { signal?: AbortSignal }): Promise<ContainerInfo>;
  /** Removes a container; removing one that is already gone succeeds. */
  destroy(containerId: string): Promise<void>;
  /** Containers carrying all of `labels`. */
  list(labels: Record<string, string>): Promise<ContainerInfo[]>;
  logs(container: ContainerInfo): ActivationLogReader;
  /** Throws with a clear message when the backend cannot be used. */
  health(): Promise<void>;
  /** Exit and OOM events; returns an unsubscribe function. */
  onEvent(listener: (event: ContainerEvent) => void): () => void;
  close(): Promise<void>;
}
