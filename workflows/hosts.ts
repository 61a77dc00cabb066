// The hosts workflow (`hosts`): registry of agents (capacity, reservations, heartbeats) and of
// controllers (incarnation, heartbeats), and the placement decision. Whenever the set of live
// controllers changes — one registers, restarts or is not heard from for the lease timeout — it
// tells every pool, which reclaim the leases of the controllers that are gone.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import { clusterActivities } from './activities';
import {
  clusterQuery,
  controllerHeartbeatSignal,
  controllerLeftSignal,
  hostHeartbeatSignal,
  hostLeftSignal,
  placeContainerUpdate,
  releaseContainersSignal,
  type ClusterView,
  type HostsInput,
  type HostsState,
  type LiveController,
} from './messages';
import { chooseHost, isHostLive, namespaceMB, reservedMB } from './placement';
import { scopedNames } from './scope';
import { shouldContinueAsNew } from './history';

/** The heartbeat time of a host whose agent stopped cleanly (no live host has it). */
const LEFT = 0;

export async function hostsWorkflow(input: HostsInput): Promise<void> {
  const names = scopedNames(input.scope);
  const timeout = input.leaseTimeoutMs;
  const state: HostsState = input.state ?? { hosts: [], controllers: [] };
  // Histories from before this guard replay without it (docs/workflow-upgrades.md, rule 4).
  const outageGuard = patched('hosts-deaf-registry-condemns-nobody');
  /**
   * Not hearing anyone for half the timeout means the registry itself was cut off (Temporal down
   * or paused), not that everyone died: nobody is expired then, and the first heartbeat after it
   * starts every clock anew, so live controllers keep their containers through an outage.
   */
  const deaf = (now: number): boolean => outageGuard && now - (state.lastHeard ?? now) > timeout / 2;
  const heard = (now: number): void => {
    if (deaf(now)) {
      for (const c of state.controllers) c.lastSeen = now;
      for (const h of state.hosts) if (h.lastHeartbeat !== LEFT) h.lastHeartbeat = now;
    }
    if (outageGuard) state.lastHeard = now;
  };
  // A new run tells the pools once, in case a change was pending when the last one ended.
  let membershipChanged = true;

  const liveControllers = (): LiveController[] =>
    state.controllers.map(({ controllerId, incarnation }) => ({ controllerId, incarnation }));
  const view = (): ClusterView => {
    const now = Date.now();
    return {
      hosts: state.hosts
        .filter((h) => isHostLive(h, now, timeout))
        .map((h) => ({
          id: h.id,
          capacityMB: h.capacityMB,
          reservedMB: reservedMB(h),
          lastSeen: h.lastHeartbeat,
          ...(h.endpoint !== undefined ? { endpoint: h.endpoint } : {}),
        })),
      controllers: state.controllers.map(({ controllerId, incarnation, lastSeen }) => ({
        controllerId,
        incarnation,
        lastSeen,
      })),
      asOf: now,
    };
  };

  setHandler(hostHeartbeatSignal, ({ hostId, capacityMB, endpoint }) => {
    heard(Date.now());
    let host = state.hosts.find((h) => h.id === hostId);
    if (host) {
      host.capacityMB = capacityMB;
      host.lastHeartbeat = Date.now();
    } else {
      host = { id: hostId, capacityMB, lastHeartbeat: Date.now(), reservations: {} };
      state.hosts.push(host);
    }
    // State only (no command): replays of older histories are unaffected.
    if (endpoint !== undefined) host.endpoint = endpoint;
    else delete host.endpoint;
  });
  setHandler(controllerHeartbeatSignal, ({ controllerId, incarnation }) => {
    heard(Date.now());
    const known = state.controllers.find((c) => c.controllerId === controllerId);
    if (known && known.incarnation === incarnation) {
      known.lastSeen = Date.now();
      return;
    }
    // New, or restarted with the same id: the old incarnation's leases are reclaimed.
    state.controllers = state.controllers.filter((c) => c.controllerId !== controllerId);
    state.controllers.push({ controllerId, incarnation, lastSeen: Date.now() });
    membershipChanged = true;
  });
  setHandler(hostLeftSignal, ({ hostId }) => {
    // Not live from now: placement passes it by and its id is free. Its heartbeat brings it back.
    const host = state.hosts.find((h) => h.id === hostId);
    if (host) host.lastHeartbeat = LEFT;
  });
  setHandler(controllerLeftSignal, ({ controllerId, incarnation }) => {
    // Its leases are reclaimed at once, and its id is free for the next start to take without waiting.
    const left = state.controllers.filter(
      (c) => c.controllerId !== controllerId || c.incarnation !== incarnation,
    );
    if (left.length === state.controllers.length) return;
    state.controllers = left;
    membershipChanged = true;
  });
  setHandler(
    placeContainerUpdate,
    ({ name, memoryMB, group, avoid, namespace, namespaceQuotaMB }) => {
      const already = state.hosts.find((h) => h.reservations[name]);
      if (already) return { hostId: already.id };
      // Audit H5: one tenant cannot take every host. (Requests recorded before the quota carry none.)
      if (namespace !== undefined && namespaceQuotaMB !== undefined) {
        const used = namespaceMB(state.hosts, namespace);
        if (used + memoryMB > namespaceQuotaMB) {
          throw ApplicationFailure.create({
            type: 'NamespaceQuota',
            message: `namespace '${namespace}' has ${used} MB of containers; ${memoryMB} MB more would pass its quota of ${namespaceQuotaMB} MB`,
          });
        }
      }
      const hostId = chooseHost(state.hosts, { memoryMB, group, avoid }, Date.now(), timeout);
      if (hostId === null) {
        throw ApplicationFailure.create({
          type: 'NoCapacity',
          message: `no live host has ${memoryMB} MB free for ${name}`,
        });
      }
      state.hosts.find((h) => h.id === hostId)!.reservations[name] =
        namespace === undefined ? { memoryMB, group } : { memoryMB, group, namespace };
      return { hostId };
    },
    {
      validator: ({ name, memoryMB }) => {
        if (!name || !(memoryMB > 0)) throw new Error('name and a positive memoryMB are required');
      },
      description: 'Choose a host for a container and reserve its memory (idempotent by container name).',
    },
  );
  setHandler(releaseContainersSignal, ({ names: released }) => {
    for (const h of state.hosts) for (const n of released) delete h.reservations[n];
  });
  setHandler(clusterQuery, view);

  const nextExpiryMs = (): number | null => {
    const now = Date.now();
    if (deaf(now) && state.controllers.length) return timeout / 2;
    const deadlines = state.controllers.map((c) => c.lastSeen + timeout - now);
    return deadlines.length ? Math.max(1, Math.min(...deadlines) + 1) : null;
  };

  for (;;) {
    const wait = nextExpiryMs();
    const done = () => membershipChanged || shouldContinueAsNew();
    if (wait === null) await condition(done);
    else await condition(done, wait);

    const now = Date.now();
    const expired = deaf(now) ? [] : state.controllers.filter((c) => now - c.lastSeen > timeout);
    if (expired.length) {
      log.info('controllers expired', { controllers: expired.map((c) => c.controllerId) });
      state.controllers = state.controllers.filter((c) => !expired.includes(c));
      membershipChanged = true;
    }
    if (membershipChanged) {
      membershipChanged = false;
      const ids =
        liveControllers()
          .map((c) => c.controllerId)
          .join(', ') || 'none';
      try {
        await clusterActivities(names, `tell pools the live controllers: ${ids}`).other.broadcastControllers(
          input.scope,
          {
            controllers: liveControllers(),
            asOf: Date.now(),
          },
        );
      } catch (err) {
        log.error('broadcast of live controllers failed', { error: String(err) });
        membershipChanged = true;
      }
    }
    const v = view();
    setCurrentDetails(`${v.hosts.length} live hosts, ${v.controllers.length} live controllers`);
    if (shouldContinueAsNew()) break;
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof hostsWorkflow>({ ...input, state });
}
