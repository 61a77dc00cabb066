// Eviction (audit H5): when a placement finds no host with room, idle containers make way instead
// of the cold start failing, as OpenWhisk's invokers evict idle containers to run new ones. Started
// by the place activity (activities/cluster.ts), one at a time: it takes every router's usage,
// picks the least recently used idle containers on the host where they free the memory needed,
// and tells their pools, which revoke and remove them like a scale-down with no keep-alive. The
// placement's retries find the room; a retry that still finds none starts the next eviction.
// Stem cells never evict: they wait for room. A tenant at its memory quota (audit H5) evicts only
// its own idle containers, on any host.
import { log } from '@temporalio/workflow';
import { chargedNamespace } from '../common/names';
import type { ContainerUsage } from '../common/types';
import type { EvictionInput } from './messages';
import { collectClusterUsage, signalIdle } from './scale-down';

/** A container idle for less than this is never evicted: it was just used, or just leased. */
export const MIN_IDLE_MS = 1000;

/** Idle long enough, and known where it runs and what it holds. */
type Placed = ContainerUsage & { host: string; memoryMB: number };
const isEvictable = (u: ContainerUsage): u is Placed =>
  u.inFlight === 0 && u.idleMs >= MIN_IDLE_MS && !!u.host && !!u.memoryMB;

export interface EvictionResult {
  hostId: string | null;
  evicted: number;
  freedMB: number;
}

/**
 * The least recently used idle action containers on one host that, with the room it has, free
 * `neededMB`: the host where the fewest containers must go. Null when no host can.
 */
export function chooseEvictions(
  usage: readonly ContainerUsage[],
  neededMB: number,
  freeMB: ReadonlyMap<string, number> = new Map(),
): { hostId: string; victims: ContainerUsage[] } | null {
  const byHost = new Map<string, ContainerUsage[]>();
  for (const u of usage) {
    if (!u.action || !isEvictable(u)) continue;
    byHost.set(u.host, [...(byHost.get(u.host) ?? []), u]);
  }
  let best: { hostId: string; victims: ContainerUsage[] } | null = null;
  for (const [hostId, idle] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
    idle.sort((a, b) => b.idleMs - a.idleMs || (a.containerId < b.containerId ? -1 : 1));
    const victims: ContainerUsage[] = [];
    let freed = freeMB.get(hostId) ?? 0;
    for (const u of idle) {
      if (freed >= neededMB) break;
      victims.push(u);
      freed += u.memoryMB!;
    }
    if (freed >= neededMB && (!best || victims.length < best.victims.length)) best = { hostId, victims };
  }
  return best;
}

/**
 * A tenant at its quota: its least recently used idle containers, on any host, that bring what
 * the routers hold of it, plus `neededMB`, within `quotaMB`. Containers already revoked are gone
 * from the routers, so a placement retried while they are removed evicts nothing more. Null when
 * nothing need go, or its idle containers cannot free enough (its busy ones hold the quota: it waits).
 */
export function chooseTenantEvictions(
  usage: readonly ContainerUsage[],
  namespace: string,
  neededMB: number,
  quotaMB: number,
): { hostId: string; victims: ContainerUsage[] } | null {
  const tenant = usage.filter((u) => u.action && chargedNamespace(u.action) === namespace);
  const toFree = tenant.reduce((n, u) => n + (u.memoryMB ?? 0), 0) + neededMB - quotaMB;
  if (toFree <= 0) return null;
  const idle = tenant
    .filter(isEvictable)
    .sort((a, b) => b.idleMs - a.idleMs || (a.containerId < b.containerId ? -1 : 1));
  const victims: Placed[] = [];
  let freed = 0;
  for (const u of idle) {
    if (freed >= toFree) break;
    victims.push(u);
    freed += u.memoryMB!;
  }
  return freed >= toFree ? { hostId: victims[0]!.host, victims } : null;
}

export async function evictionWorkflow(input: EvictionInput): Promise<EvictionResult> {
  const { cluster, reports } = await collectClusterUsage(input.scope);
  const freeMB = new Map(cluster.hosts.map((h) => [h.id, Math.max(0, h.capacityMB - h.reservedMB)]));
  const usage = reports.flatMap((r) => r ?? []);
  const chosen =
    input.tenant === undefined
      ? chooseEvictions(usage, input.neededMB, freeMB)
      : chooseTenantEvictions(usage, input.tenant.namespace, input.neededMB, input.tenant.quotaMB);
  if (!chosen) {
    log.warn('nothing idle to evict, or nothing need go', { neededMB: input.neededMB, tenant: input.tenant });
    return { hostId: null, evicted: 0, freedMB: 0 };
  }
  const { hostId, victims } = chosen;
  // keepAliveMs 0 over exactly the victims' usage: the pools remove those, and only those.
  await signalIdle({ scope: input.scope, keepAliveMs: 0, minContainers: input.minContainers }, victims);
  return { hostId, evicted: victims.length, freedMB: victims.reduce((n, v) => n + v.memoryMB!, 0) };
}
