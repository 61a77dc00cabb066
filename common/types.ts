// Types shared by every layer of Gust. No Node APIs here: workflow code imports this module.

export interface KeyValue {
  key: string;
  value: unknown;
  /** A parameter OpenWhisk passes to /init as an environment variable instead of to /run. */
  init?: boolean;
}

/** OpenWhisk action limits. Durations in milliseconds, sizes in megabytes. */
export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export interface ActionExec {
  /** `nodejs:20`, `blackbox`, … (`nodejs:default` is resolved to a concrete kind before storing). */
  kind: string;
  /** Source text, or a base64 zip/tar.gz when `binary` is true. */
  code?: string;
  binary?: boolean;
  main?: string;
  /** Image of a blackbox action. */
  image?: string;
  /** A sequence's components, `/ns/[pkg/]name` each, `_` resolved. */
  components?: string[];
}

/** An action as stored. `namespace` is the full path: `guest` or `guest/pkg`. */
export interface Action {
  namespace: string;
  name: string;
  version: string;
  exec: ActionExec;
  parameters: KeyValue[];
  annotations: KeyValue[];
  limits: ActionLimits;
  publish: boolean;
  /** Epoch milliseconds of the last change. */
  updated: number;
}

/** One version of one action: routers, pools and containers are keyed on it. */
export interface ActionRef {
  namespace: string;
  name: string;
  version: string;
  /**
   * The invoking namespace the containers are kept for, when it is not the action's own tenant
   * (an action shared through a package binding or a public package): `invokerOf` in common/names.ts.
   */
  invoker?: string;
}

export type ActivationStatus =
  'success' | 'application error' | 'action developer error' | 'whisk internal error';

/** OpenWhisk's activation record (docs/reference/openwhisk-contract.md §5). */
export interface Activation {
  namespace: string;
  name: string;
  version: string;
  subject: string;
  activationId: string;
  start: number;
  end: number;
  duration: number;
  statusCode: number;
  response: {
    status: ActivationStatus;
    statusCode: number;
    success: boolean;
    result?: unknown;
    size?: number;
  };
  logs: string[];
  annotations: KeyValue[];
  publish: boolean;
  cause?: string;
}

/** What a backend is asked to create. `name` is deterministic so a retried create finds its container. */
export interface ContainerSpec {
  name: string;
  image: string;
  kind: string;
  memoryMB: number;
  env: Record<string, string>;
  labels: Record<string, string>;
  /**
   * The image is Gust's runtime, which serves the unix socket itself. False for images that speak
   * OpenWhisk's protocol only on TCP 8080 (blackbox, OpenWhisk's runtimes): the docker backend
   * then puts a forwarder beside it. @default true
   */
  socketRuntime?: boolean;
}

/** A running container as a backend reports it. */
export interface ContainerInfo {
  id: string;
  name: string;
  /** Id of the host (agent) that runs it. */
  host: string;
  /** `docker`, `process`, `kubernetes`, … */
  backend: string;
  /** Base URL of the action runtime: `unix:<socket>` (runtimes/runtime-address.ts) or `http://…`. */
  address: string;
  /**
   * The endpoint its host's agent advertises (GUST_AGENT_ADVERTISE_URL), when it has one: how a
   * controller on another machine reaches a `unix:` runtime (backends/host-routes.ts).
   */
  agentUrl?: string;
  kind: string;
  memoryMB: number;
  labels: Record<string, string>;
  createdAt: number;
}

/**
 * A container handed to one controller's router. `action` is null for a stem cell: started,
 * not yet initialised, claimable by any action of the same kind and memory.
 */
export interface Lease {
  container: ContainerInfo;
  action: ActionRef | null;
  slots: number;
}

/** What a router reports about one leased container, for scale-down. */
export interface ContainerUsage {
  containerId: string;
  action: ActionRef | null;
  inFlight: number;
  idleMs: number;
  /** Where it runs and what it reserves there (eviction picks by host). Absent from older routers. */
  host?: string;
  memoryMB?: number;
}
