// The subset of the Mesos v1 scheduler API Gust speaks, as its JSON encoding (protobuf field names,
// enums as strings, bytes as base64). Canonical source: include/mesos/v1/scheduler/scheduler.proto
// and include/mesos/v1/mesos.proto; Mesos's docs/scheduler-http-api.md. No Node APIs: workflows
// import it.

export interface Value {
  value: string;
}

export interface Resource {
  name: string;
  type: 'SCALAR' | 'RANGES' | 'SET';
  scalar?: { value: number };
  ranges?: { range: { begin: number; end: number }[] };
  role?: string;
}

export interface Label {
  key: string;
  value?: string;
}

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: Value;
  /** Seconds the master keeps the framework's tasks while it is disconnected. */
  failover_timeout?: number;
  checkpoint?: boolean;
  roles?: string[];
  hostname?: string;
  capabilities?: { type: string }[];
}

export interface Offer {
  id: Value;
  framework_id: Value;
  agent_id: Value;
  hostname: string;
  /** The agent's HTTP endpoint (files API). */
  url?: { scheme: string; address: { hostname?: string; ip?: string; port: number }; path?: string };
  resources: Resource[];
}

export interface TaskInfo {
  name: string;
  task_id: Value;
  agent_id: Value;
  resources: Resource[];
  command?: {
    shell?: boolean;
    value?: string;
    environment?: { variables: { name: string; value: string }[] };
  };
  container?: {
    type: 'DOCKER' | 'MESOS';
    docker?: {
      image: string;
      network?: 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
      port_mappings?: { host_port: number; container_port: number; protocol?: string }[];
      force_pull_image?: boolean;
      parameters?: { key: string; value: string }[];
    };
  };
  labels?: { labels: Label[] };
}

export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

/** States after which the task will never run again (mesos.proto's `isTerminalState`, plus UNKNOWN). */
export const TERMINAL_STATES: readonly TaskState[] = [
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
];

export const isTerminal = (state: TaskState): boolean => TERMINAL_STATES.includes(state);

export interface TaskStatus {
  task_id: Value;
  state: TaskState;
  message?: string;
  source?: 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
  reason?: string;
  agent_id?: Value;
  /** Set on updates that are retried until acknowledged (base64). */
  uuid?: string;
  timestamp?: number;
  healthy?: boolean;
}

export interface Filters {
  refuse_seconds?: number;
}

export type Call =
  | { type: 'SUBSCRIBE'; framework_id?: Value; subscribe: { framework_info: FrameworkInfo; force?: boolean } }
  | { type: 'TEARDOWN'; framework_id: Value }
  | {
      type: 'ACCEPT';
      framework_id: Value;
      accept: {
        offer_ids: Value[];
        operations: { type: 'LAUNCH'; launch: { task_infos: TaskInfo[] } }[];
        filters?: Filters;
      };
    }
  | { type: 'DECLINE'; framework_id: Value; decline: { offer_ids: Value[]; filters?: Filters } }
  | { type: 'REVIVE'; framework_id: Value }
  | { type: 'KILL'; framework_id: Value; kill: { task_id: Value; agent_id?: Value } }
  | {
      type: 'ACKNOWLEDGE';
      framework_id: Value;
      acknowledge: { agent_id: Value; task_id: Value; uuid: string };
    }
  | { type: 'RECONCILE'; framework_id: Value; reconcile: { tasks: { task_id: Value; agent_id?: Value }[] } };

export type Event =
  | { type: 'SUBSCRIBED'; subscribed: { framework_id: Value; heartbeat_interval_seconds?: number } }
  | { type: 'OFFERS'; offers: { offers: Offer[] } }
  | { type: 'RESCIND'; rescind: { offer_id: Value } }
  | { type: 'UPDATE'; update: { status: TaskStatus } }
  | { type: 'FAILURE'; failure: { agent_id?: Value; executor_id?: Value; status?: number } }
  | { type: 'ERROR'; error: { message: string } }
  | { type: 'HEARTBEAT' };

/** The header that ties every call after SUBSCRIBE to its subscription. */
export const STREAM_ID_HEADER = 'mesos-stream-id';

export const scalar = (name: string, value: number): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
});

export const portRange = (begin: number, end: number = begin): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range: [{ begin, end }] },
});

/** Sum of a scalar resource (cpus, mem) over a resource list. */
export function scalarOf(resources: Resource[], name: string): number {
  return resources.reduce((sum, r) => (r.name === name && r.scalar ? sum + r.scalar.value : sum), 0);
}

/** Every port of the `ports` ranges, in order. */
export function portsOf(resources: Resource[]): number[] {
  const ports: number[] = [];
  for (const r of resources) {
    if (r.name !== 'ports' || !r.ranges) continue;
    for (const { begin, end } of r.ranges.range) for (let p = begin; p <= end; p++) ports.push(p);
  }
  return ports;
}
