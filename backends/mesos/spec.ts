// Pure builders and decisions of the Mesos framework: the TaskInfo of a Gust container, which
// pending tasks each offer takes, and task-id rules. No Node APIs: the framework workflow runs them.
import type { Label, Offer, Resource, TaskInfo } from './protocol';
import { portRange, portsOf, scalar, scalarOf } from './protocol';

/** The action runtime's port inside the container (OpenWhisk protocol). */
export const RUNTIME_PORT = 8080;

/** What Gust asks the framework to run: one container as one Mesos task. */
export interface MesosTaskSpec {
  /** Deterministic (the container name), so a retried launch finds the first task. */
  taskId: string;
  image: string;
  cpus: number;
  memoryMB: number;
  env: Record<string, string>;
  labels: Record<string, string>;
}

/** One LAUNCH decided for one offer: the task and the host port it takes from the offer. */
export interface PlannedLaunch {
  taskId: string;
  hostPort: number;
}

export interface OfferPlan {
  offer: Offer;
  launches: PlannedLaunch[];
}

/**
 * CPU share of an action, as OpenWhisk derives it from memory (1 CPU per 1024 MB, at least 0.1),
 * rounded to hundredths so offers and tasks add up exactly.
 */
export function cpusFor(memoryMB: number): number {
  return Math.max(0.1, Math.round((memoryMB / 1024) * 100) / 100);
}

/** Mesos task ids may not contain `/`, whitespace or control characters, nor be `.` or `..`. */
export function assertValidTaskId(taskId: string): void {
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(taskId) || taskId === '.' || taskId === '..')
    throw new Error(`'${taskId}' is not a valid Mesos task id`);
}

/** The TaskInfo of a LAUNCH: Docker containerizer, bridge network, the runtime port on `hostPort`. */
export function buildTaskInfo(spec: MesosTaskSpec, agentId: string, hostPort: number): TaskInfo {
  const labels: Label[] = Object.entries(spec.labels).map(([key, value]) => ({ key, value }));
  return {
    name: spec.taskId,
    task_id: { value: spec.taskId },
    agent_id: { value: agentId },
    resources: [scalar('cpus', spec.cpus), scalar('mem', spec.memoryMB), portRange(hostPort)],
    // No command value: the image's own entrypoint runs (the action runtime).
    command: {
      shell: false,
      environment: { variables: Object.entries(spec.env).map(([name, value]) => ({ name, value })) },
    },
    container: {
      type: 'DOCKER',
      docker: {
        image: spec.image,
        network: 'BRIDGE',
        port_mappings: [{ host_port: hostPort, container_port: RUNTIME_PORT, protocol: 'tcp' }],
        force_pull_image: false,
      },
    },
    labels: { labels },
  };
}

/** The labels of a TaskInfo as a record. */
export function labelsOf(task: Pick<TaskInfo, 'labels'>): Record<string, string> {
  return Object.fromEntries((task.labels?.labels ?? []).map((l) => [l.key, l.value ?? '']));
}

/**
 * First fit: each pending task, in order, goes to the first offer with enough cpus, memory and a
 * free port. Offers left with no launch are to be declined. A task that fits no offer stays pending.
 */
export function planOffers(
  pending: MesosTaskSpec[],
  offers: Offer[],
): { plans: OfferPlan[]; unused: Offer[] } {
  const room = offers.map((offer) => ({
    offer,
    cpus: scalarOf(offer.resources, 'cpus'),
    mem: scalarOf(offer.resources, 'mem'),
    ports: portsOf(offer.resources),
    launches: [] as PlannedLaunch[],
  }));
  const EPSILON = 1e-9;
  for (const task of pending) {
    const fit = room.find(
      (r) => r.cpus + EPSILON >= task.cpus && r.mem >= task.memoryMB && r.ports.length > 0,
    );
    if (!fit) continue;
    fit.cpus -= task.cpus;
    fit.mem -= task.memoryMB;
    fit.launches.push({ taskId: task.taskId, hostPort: fit.ports.shift()! });
  }
  return {
    plans: room.filter((r) => r.launches.length > 0).map((r) => ({ offer: r.offer, launches: r.launches })),
    unused: room.filter((r) => r.launches.length === 0).map((r) => r.offer),
  };
}

/** The offer's resources a task would take: for the simulator's and the tests' bookkeeping. */
export function resourcesOf(task: TaskInfo): { cpus: number; mem: number; ports: number[] } {
  const resources: Resource[] = task.resources;
  return { cpus: scalarOf(resources, 'cpus'), mem: scalarOf(resources, 'mem'), ports: portsOf(resources) };
}

/** Base URL of an agent's HTTP endpoint (files API), from an offer. */
export function agentUrlOf(offer: Offer): string {
  const address = offer.url?.address;
  if (!address) return `http://${offer.hostname}:5051`;
  return `${offer.url?.scheme ?? 'http'}://${address.ip ?? address.hostname ?? offer.hostname}:${address.port}`;
}
