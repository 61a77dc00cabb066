// Scale-up and scale-down decisions of an action pool. Pure functions over plain data.
import type { ContainerUsage } from '../common/types';

/** One request may not ask for more than this (a bound on a single update's work): routers split larger needs. */
export const MAX_CONTAINERS_PER_REQUEST = 32;

export interface DemandReport {
  controllerId: string;
  /** Requests waiting in the controller's queue for this action. */
  queued: number;
  /** Requests running in this controller's containers of this action. */
  inFlight: number;
  /** Free slots this controller has in its leased containers of this action. */
  capacity: number;
}

/**
 * How many more containers one controller needs: enough slots for what is queued beyond its free
 * capacity, minus the containers already being created for it, never past `maxTotal`. Only the
 * replay of retired demand signals decides with it now (ActionPool.replayDemand); routers size
 * their requests with containersForLoad below.
 */
export function containersToAdd(opts: {
  demand: DemandReport;
  slotsPerContainer: number;
  creatingForController: number;
  currentTotal: number;
  maxTotal: number;
}): number {
  const { demand, slotsPerContainer, creatingForController, currentTotal, maxTotal } = opts;
  const missingSlots = demand.queued - demand.capacity;
  if (missingSlots <= 0) return 0;
  const wanted = Math.ceil(missingSlots / Math.max(1, slotsPerContainer)) - creatingForController;
  return Math.max(0, Math.min(wanted, maxTotal - currentTotal));
}

export interface IdleCandidate {
  containerId: string;
  /** Leased and in service (not being created or removed). */
  leased: boolean;
}

/**
 * Containers to remove: reported idle for at least `keepAliveMs` with nothing in flight, keeping
 * at least `minContainers` of the pool's leased containers (the most recently used stay).
 * A container with work in flight, or not reported at all, always stays.
 */
export function chooseIdleVictims(
  containers: readonly IdleCandidate[],
  usage: readonly ContainerUsage[],
  keepAliveMs: number,
  minContainers: number,
): string[] {
  const leased = new Set(containers.filter((c) => c.leased).map((c) => c.containerId));
  const idle = usage
    .filter((u) => leased.has(u.containerId) && u.inFlight === 0 && u.idleMs >= keepAliveMs)
    .sort((a, b) => b.idleMs - a.idleMs || (a.containerId < b.containerId ? -1 : 1));
  const removable = Math.max(0, leased.size - minContainers);
  return idle.slice(0, removable).map((u) => u.containerId);
}

/** What a router knows about the load on one action version (api/invoke/router.ts `load`). */
export interface ObservedLoad {
  /** Arrivals per second over the last second (or the part of it that has passed, ≥ 250 ms). */
  arrivalsPerSecond: number;
  /** Mean time one activation holds a slot (/run only, not /init), ms; undefined before the first. */
  meanRunMs: number | undefined;
  /** Requests waiting for a slot. */
  queued: number;
}

/** The busy share of its slots a pool is sized for: queueing stays short below it (M/D/c). */
export const TARGET_UTILISATION = 0.7;

/**
 * Containers an action version needs for the load it gets (Little's law, as OpenWhisk's FPC
 * scheduler sizes it): busy slots = arrival rate × time in a slot, divided by the slots per
 * container at the target utilisation. Before any run has finished nothing is known about the
 * duration: one container, as FPC's first request. Never 0 while requests wait.
 */
export function containersForLoad(load: ObservedLoad, slotsPerContainer: number): number {
  const floor = load.queued > 0 ? 1 : 0;
  if (load.meanRunMs === undefined) return Math.max(1, floor);
  const busySlots = (load.arrivalsPerSecond * load.meanRunMs) / 1000;
  return Math.max(floor, Math.ceil(busySlots / (Math.max(1, slotsPerContainer) * TARGET_UTILISATION)));
}
