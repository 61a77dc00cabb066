// Placement: which host gets a new container. A pure function over plain data, so the hosts
// workflow only holds state and applies the decision, and the rules are unit-tested without a worker.
//
// Rules, in order:
//   1. Only hosts heard from within `heartbeatTimeoutMs` are candidates; so are none in `avoid`.
//   2. A host never gets more than its capacity: reserved + requested ≤ capacity.
//   3. Spread: prefer the host with the fewest containers of the same group (one action's pool),
//      so losing one host never takes all of an action's containers.
//   4. Bin-pack: among those, the host with the least memory left after placing (best fit), so
//      large holes stay free for large containers.
//   5. Ties break on host id, so the decision is deterministic.

export interface Reservation {
  memoryMB: number;
  /** The spread group, usually the owning pool's workflow id. */
  group: string;
  /** The tenant of an action's container (stem cells have none): its quota counts it. */
  namespace?: string;
}

export interface HostRecord {
  id: string;
  capacityMB: number;
  /** Workflow time (epoch ms) of the last heartbeat. */
  lastHeartbeat: number;
  /** By container name. */
  reservations: Record<string, Reservation>;
  /** The agent endpoint the host advertises (HostHeartbeat.endpoint), for operators; absent: none. */
  endpoint?: string;
}

export interface PlacementRequest {
  memoryMB: number;
  group: string;
  /** Hosts not to use (e.g. one where a create just failed). */
  avoid?: string[];
}

export const reservedMB = (host: HostRecord): number =>
  Object.values(host.reservations).reduce((sum, r) => sum + r.memoryMB, 0);

/** Memory reserved for one namespace's containers on every host (its quota's measure). */
export const namespaceMB = (hosts: readonly HostRecord[], namespace: string): number =>
  hosts.reduce(
    (sum, h) =>
      sum +
      Object.values(h.reservations).reduce((n, r) => n + (r.namespace === namespace ? r.memoryMB : 0), 0),
    0,
  );

export const isHostLive = (host: HostRecord, now: number, heartbeatTimeoutMs: number): boolean =>
  now - host.lastHeartbeat <= heartbeatTimeoutMs;

/** The chosen host's id, or null when no live host has room. */
export function chooseHost(
  hosts: readonly HostRecord[],
  request: PlacementRequest,
  now: number,
  heartbeatTimeoutMs: number,
): string | null {
  const avoid = new Set(request.avoid ?? []);
  const candidates = hosts
    .filter((h) => isHostLive(h, now, heartbeatTimeoutMs) && !avoid.has(h.id))
    .map((h) => ({
      id: h.id,
      leftAfter: h.capacityMB - reservedMB(h) - request.memoryMB,
      sameGroup: Object.values(h.reservations).filter((r) => r.group === request.group).length,
    }))
    .filter((c) => c.leftAfter >= 0);
  candidates.sort((a, b) => a.sameGroup - b.sameGroup || a.leftAfter - b.leftAfter || (a.id < b.id ? -1 : 1));
  return candidates[0]?.id ?? null;
}
