// A thin typed client of the Docker Engine API over its unix socket (undici), mirroring the
// engine's verbs. No policy here: backend.ts decides what a status means for Gust.
// https://docs.docker.com/reference/api/engine/version/v1.41/
import { Pool } from 'undici';
import type { Readable } from 'node:stream';

/** The engine API version Gust is written against (Docker 20.10). */
export const DOCKER_API_VERSION = 'v1.41';

export class DockerApiError extends Error {
  readonly code = 'GUST_ERR_DOCKER_API';
  readonly statusCode: number;

  constructor(operation: string, statusCode: number, message: string) {
    super(`docker ${operation} failed (${statusCode}): ${message}`);
    this.name = 'DockerApiError';
    this.statusCode = statusCode;
  }
}

/** The parts of `GET /containers/{id}/json` Gust reads. */
export interface DockerContainerJson {
  Id: string;
  Name: string;
  Created: string;
  State: { Status: string; Running: boolean; ExitCode: number; OOMKilled: boolean; Error: string };
  Config: { Image: string; Labels: Record<string, string> | null };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

/** The parts of an entry of `GET /containers/json` Gust reads. */
export interface DockerContainerSummary {
  Id: string;
  Names: string[];
  Created: number;
  State: string;
  Labels: Record<string, string> | null;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

/** One line of `GET /events`. */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

type Query = Record<string, string | number | boolean | undefined>;

function path(route: string, query?: Query): string {
  if (query === undefined) return `/${DOCKER_API_VERSION}${route}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return `/${DOCKER_API_VERSION}${route}?${params.toString()}`;
}

/** What a call (not a stream, not a wait) may take before Gust gives up on a hung dockerd. */
export const DOCKER_CALL_DEADLINE_MS = 60_000;

export class DockerApi {
  readonly #pool: Pool;
  readonly #deadlineMs: number;

  constructor(socketPath: string, options: { deadlineMs?: number } = {}) {
    if (!socketPath) throw new Error('DockerApi: socketPath is required');
    // Log and event streams each hold a connection for a long time: no connection cap.
    this.#pool = new Pool('http://docker', { socketPath, connections: null, pipelining: 1 });
    this.#deadlineMs = options.deadlineMs ?? DOCKER_CALL_DEADLINE_MS;
  }

  /**
   * One request/response call. It fails after the deadline (a hung dockerd must not stall an
   * activation or an activity forever; callers retry) unless `waits` says the caller's own
   * `signal` bounds it (`/wait` blocks by design).
   */
  async #call(
    operation: string,
    method: 'GET' | 'POST' | 'DELETE',
    route: string,
    options: { query?: Query; body?: unknown; ok: number[]; signal?: AbortSignal; waits?: boolean },
  ): Promise<{ status: number; body: unknown }> {
    const deadline = options.waits === true ? undefined : AbortSignal.timeout(this.#deadlineMs);
    const signals = [options.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
    let response: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      response = await this.#pool.request({
        method,
        path: path(route, options.query),
        headers: options.body === undefined ? undefined : { 'content-type': 'application/json' },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      });
      text = await response.body.text();
    } catch (error) {
      if (deadline?.aborted === true && options.signal?.aborted !== true)
        throw new DockerApiError(operation, 0, `dockerd did not answer within ${this.#deadlineMs} ms`);
      throw error;
    }
    if (!options.ok.includes(response.statusCode)) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new DockerApiError(operation, response.statusCode, message.trim());
    }
    return { status: response.statusCode, body: text === '' ? undefined : JSON.parse(text) };
  }

  async ping(): Promise<void> {
    const response = await this.#pool.request({ method: 'GET', path: '/_ping' });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new DockerApiError('ping', response.statusCode, text);
  }

  /** Creates a container; `null` when one with that name exists already (409). */
  async createContainer(name: string, config: unknown, signal?: AbortSignal): Promise<{ Id: string } | null> {
    try {
      const { body } = await this.#call('create', 'POST', '/containers/create', {
        query: { name },
        body: config,
        ok: [201],
        signal,
      });
      return body as { Id: string };
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 409) return null;
      throw error;
    }
  }

  /** Starts a container; starting a running one is fine (304). */
  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.#call('start', 'POST', `/containers/${id}/start`, { ok: [204, 304], signal });
  }

  /** Inspects by id or name; `null` when there is no such container. */
  async inspectContainer(idOrName: string): Promise<DockerContainerJson | null> {
    try {
      const { body } = await this.#call('inspect', 'GET', `/containers/${idOrName}/json`, { ok: [200] });
      return body as DockerContainerJson;
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 404) return null;
      throw error;
    }
  }

  /** Resolves when the container is not running (or gone); rejects when `signal` aborts first. */
  async waitForStop(id: string, signal: AbortSignal): Promise<void> {
    await this.#call('wait', 'POST', `/containers/${id}/wait`, {
      query: { condition: 'not-running' },
      ok: [200, 404],
      signal,
      waits: true,
    });
  }

  /** Sends a signal to a running container (SIGKILL: what an OOM kill or a crash looks like). */
  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.#call('kill', 'POST', `/containers/${id}/kill`, { query: { signal }, ok: [204] });
  }

  /** Force-removes a container and its anonymous volumes; gone already (404) or going (409) is fine. */
  async removeContainer(id: string): Promise<void> {
    await this.#call('remove', 'DELETE', `/containers/${id}`, {
      query: { force: true, v: true },
      ok: [204, 404, 409],
    });
  }

  /** All containers (running or not) carrying every `key=value` label. */
  async listContainers(labels: string[]): Promise<DockerContainerSummary[]> {
    const { body } = await this.#call('list', 'GET', '/containers/json', {
      query: { all: true, filters: JSON.stringify({ label: labels }) },
      ok: [200],
    });
    return body as DockerContainerSummary[];
  }

  /** The multiplexed log stream, followed until the container is removed or `signal` aborts. */
  async followLogs(
    id: string,
    signal: AbortSignal,
    options: { timestamps?: boolean; since?: number } = {},
  ): Promise<Readable> {
    const timestamps = options.timestamps ?? true;
    const response = await this.#pool.request({
      method: 'GET',
      path: path(`/containers/${id}/logs`, {
        follow: true,
        stdout: true,
        stderr: true,
        timestamps,
        since: options.since,
      }),
      signal,
    });
    if (response.statusCode !== 200) {
      throw new DockerApiError('logs', response.statusCode, (await response.body.text()).trim());
    }
    return response.body;
  }

  /** The event stream (one JSON object per line) matching `filters`, from `since` (seconds, fractional). */
  async followEvents(
    filters: Record<string, string[]>,
    since: string | undefined,
    signal: AbortSignal,
  ): Promise<Readable> {
    const response = await this.#pool.request({
      method: 'GET',
      path: path('/events', { filters: JSON.stringify(filters), since }),
      signal,
    });
    if (response.statusCode !== 200) {
      throw new DockerApiError('events', response.statusCode, (await response.body.text()).trim());
    }
    return response.body;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
