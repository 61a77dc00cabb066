// Reconcile, started by the `reconcile` schedule. Compares what each live host runs with what the
// pools own: a container no pool owns (an orphan, e.g. after a crash between create and record)
// is destroyed once older than the grace period; a container a pool holds leased that is missing
// from its host has died behind Gust's back, and its pool is told to replace it.
import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { LABELS } from '../common/names';
import type { ContainerInfo } from '../common/types';
import { clusterActivities, hostActivities } from './activities';
import {
  releaseContainersSignal,
  repairSignal,
  type LeasedContainer,
  type ReconcileWorkflowInput,
} from './messages';
import { scopedNames } from './scope';

export interface ReconcileResult {
  hosts: number;
  orphans: string[];
  missing: string[];
  /** Pools that did not answer in time (absent in results recorded before it existed). */
  unanswered?: string[];
}

export async function reconcileWorkflow(input: ReconcileWorkflowInput): Promise<ReconcileResult> {
  const names = scopedNames(input.scope);
  const cluster = await clusterActivities(names, 'which hosts are live').other.describeCluster(input.scope);
  const listedAt = Date.now();
  const listed = new Map<string, ContainerInfo[]>();
  await Promise.all(
    cluster.hosts.map(async ({ id }) => {
      try {
        listed.set(id, await hostActivities(names, id, `containers on ${id}`).list.listContainers());
      } catch (err) {
        log.warn('could not list containers', { host: id, error: String(err) });
      }
    }),
  );
  // The containers' owners, for the activity to confirm those visibility misses (audit L13). Only
  // the activity's input changes: replay checks an activity's type and id, not its arguments.
  const owners = [...new Set([...listed.values()].flat().flatMap((info) => info.labels[LABELS.owner] ?? []))];
  // Inventories are read after the listings: a container created in between is younger than the
  // grace period, and one recorded in between is owned — either way it is not taken for an orphan.
  const inventories = await clusterActivities(names, 'what the pools own').other.listPoolInventories(
    input.scope,
    owners,
  );
  const owned = new Set(inventories.flatMap((i) => i.containers.map((c) => c.name)));
  // A pool that did not answer may own containers we cannot see: those are left alone this round.
  const unanswered = inventories.filter((i) => i.unanswered).map((i) => i.workflowId);
  if (unanswered.length) log.warn('pools did not answer; their containers are left alone', { unanswered });
  const unknownOwner = (info: ContainerInfo): boolean => unanswered.includes(info.labels[LABELS.owner] ?? '');

  const now = Date.now();
  const orphans: { host: string; info: ContainerInfo }[] = [];
  for (const [host, containers] of listed) {
    for (const info of containers) {
      if (!owned.has(info.name) && !unknownOwner(info) && now - info.createdAt > input.orphanGraceMs)
        orphans.push({ host, info });
    }
  }
  await Promise.all(
    orphans.map(async ({ host, info }) => {
      try {
        await hostActivities(names, host, `destroy orphan ${info.name}`).destroy.destroyContainer({
          name: info.name,
          containerId: info.id,
        });
      } catch (err) {
        log.warn('could not destroy orphan', { name: info.name, error: String(err) });
      }
    }),
  );
  if (orphans.length) {
    await getExternalWorkflowHandle(names.hostsWorkflowId).signal(releaseContainersSignal, {
      names: orphans.map((o) => o.info.name),
    });
  }

  const missing: string[] = [];
  await Promise.all(
    inventories.map(async (inventory) => {
      const gone = inventory.containers
        // Only leases older than the listings: a younger one may have been created after them.
        .filter((c): c is LeasedContainer => c.state === 'leased' && !c.removal && c.leasedAt < listedAt)
        .filter((c) => listed.get(c.host)?.every((info) => info.name !== c.name) ?? false)
        .map((c) => c.name);
      if (!gone.length) return;
      missing.push(...gone);
      try {
        await getExternalWorkflowHandle(inventory.workflowId).signal(repairSignal, { names: gone });
      } catch (err) {
        log.warn('pool did not take the repair signal', { pool: inventory.workflowId, error: String(err) });
      }
    }),
  );
  return { hosts: listed.size, orphans: orphans.map((o) => o.info.name), missing, unanswered };
}
