// How a controller reaches a container of a Docker host (DESIGN "Backends"; docs/design.md
// "Several Docker hosts"). On the controller's own machine a runtime listens on a unix socket in
// the host's runtime directory: the controller calls it there, reads its secret from its file,
// and reads its logs and state from the local engine (the fast path, benchmarked; no hop added).
// A container of another host is reached through that host's agent endpoint
// (backends/docker/agent-endpoint.ts), which the agent advertises with every container
// (`ContainerInfo.agentUrl`): `/init` and `/run` at `<agentUrl>/containers/<name>/…`, its logs and
// state there too, with the container's runtime secret on every call. That secret is derived
// from the container's name under GUST_RUNTIME_SECRET_KEY (runtime-secret-key.ts), so agent and
// controller agree on it without sending it anywhere.
//
// Which route: a container whose host is one of GUST_LOCAL_HOSTS (default: the controller's
// GUST_HOST_ID), or that advertises no endpoint, or that is not at a unix address (kubernetes,
// mesos, process backends), keeps its own address; any other goes through its agent.
import { request } from 'undici';
import { SECRET_HEADER } from '../runtimes/nodejs/src/runtime-secret';
import { socketPathOf } from '../runtimes/runtime-address';
import type { ContainerInfo } from '../common/types';
import type { ActivationLogReader, ContainerHostAccess, ContainerState } from './backend';
import { HostUnreachableError } from './container-errors';
import { followContainerLogs } from './docker/container-logs';
import { derivedRuntimeSecret } from './runtime-secret-key';

/** Path of a container under its agent's endpoint. */
const CONTAINER_PATH = /^\/containers\/([^/]+)$/;

/** `<agentUrl>/containers/<name>`: the base address of a container behind its agent. */
export function agentRoute(agentUrl: string, containerName: string): string {
  return `${agentUrl.replace(/\/+$/, '')}/containers/${encodeURIComponent(containerName)}`;
}

/** The address a controller whose machine runs `localHosts` calls `container` at. */
export function routeOf(container: ContainerInfo, localHosts: ReadonlySet<string>): string {
  if (container.agentUrl === undefined || localHosts.has(container.host)) return container.address;
  if (socketPathOf(container.address) === undefined) return container.address;
  return agentRoute(container.agentUrl, container.name);
}

/** The container name of an agent route, undefined for any other address. */
export function containerOfRoute(address: string): string | undefined {
  if (!address.startsWith('http')) return undefined;
  const match = CONTAINER_PATH.exec(new URL(address).pathname);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

export interface HostRoutesOptions {
  /** This machine's host: its containers' logs, state and (kubernetes) secrets. */
  local?: ContainerHostAccess;
  /** Host ids on this machine (GUST_LOCAL_HOSTS). */
  localHosts: readonly string[];
  /** GUST_RUNTIME_SECRET_KEY, shared with the agents ('' only serves a single process). */
  secretKey: string;
}

/**
 * The controller's ContainerHostAccess over every host: the local one for containers on this
 * machine, the agents' endpoints for the others. Give `addressOf` to the router, so the route is
 * chosen once per lease, and this object to the RuntimeClient as its `secrets`.
 */
export class HostRoutes {
  readonly #local: ContainerHostAccess | undefined;
  readonly #localHosts: ReadonlySet<string>;
  readonly #secretKey: string;

  constructor(options: HostRoutesOptions) {
    this.#local = options.local;
    this.#localHosts = new Set(options.localHosts);
    this.#secretKey = options.secretKey;
  }

  readonly addressOf = (container: ContainerInfo): string => routeOf(container, this.#localHosts);

  /** The container's log stream; undefined when no host of this controller's can give it. */
  logs(container: ContainerInfo): ActivationLogReader | undefined {
    const route = this.#remote(container);
    if (route === undefined) return this.#local?.logs(container);
    return followContainerLogs(async (signal) => {
      const response = await request(`${route}/logs`, { headers: this.#headers(container), signal });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new Error(
          `the agent at ${container.agentUrl} refused the logs of ${container.name} (${response.statusCode})`,
        );
      }
      return response.body;
    });
  }

  /**
   * What the container's host knows of it (after a failed call: was it OOM-killed?). Rejects with
   * HostUnreachableError when its agent does not answer: then the host, not the action, failed.
   */
  async state(
    container: ContainerInfo,
    options: { awaitExitMs?: number } = {},
  ): Promise<ContainerState | null> {
    const route = this.#remote(container);
    if (route === undefined) return this.#local ? this.#local.state(container.id, options) : null;
    const awaitExitMs = options.awaitExitMs ?? 0;
    let response;
    try {
      response = await request(`${route}/state?awaitExitMs=${awaitExitMs}`, {
        headers: this.#headers(container),
        signal: AbortSignal.timeout(awaitExitMs + 5_000),
      });
    } catch (error) {
      throw new HostUnreachableError(container.host, container.agentUrl!, error);
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      return null;
    }
    return ((await response.body.json()) as { state: ContainerState | null }).state;
  }

  /** RuntimeClient's secrets: derived for an agent route, else the local host's (kubernetes). */
  async runtimeSecret(address: string): Promise<string | undefined> {
    const name = containerOfRoute(address);
    if (name !== undefined) return derivedRuntimeSecret(this.#secretKey, name);
    return this.#local?.runtimeSecret?.(address);
  }

  /** The agent route of a container of another machine; undefined for one reached directly. */
  #remote(container: ContainerInfo): string | undefined {
    const address = this.addressOf(container);
    return address === container.address ? undefined : address;
  }

  #headers(container: ContainerInfo): Record<string, string> {
    return { [SECRET_HEADER]: derivedRuntimeSecret(this.#secretKey, container.name) };
  }
}
