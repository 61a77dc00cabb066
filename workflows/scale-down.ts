// Scale-down, started by the `scale-down` schedule: collect usage from every live controller's
// router and tell each action pool which of its containers are idle. The pool decides (keep-alive,
// per-action minimum, busy containers stay), revokes them (draining in-flight work) and destroys them.
import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { actionPath } from '../common/names';
import type { ContainerUsage } from '../common/types';
import { clusterActivities, controllerActivities } from './activities';
import { scaleDownSignal, type ClusterView, type ScaleDownWorkflowInput } from './messages';
import { scopedNames, type Scope } from './scope';

export interface ScaleDownResult {
  controllers: number;
  answered: number;
  pools: number;
}

/** Every live controller's router usage (null where a controller did not answer). */
export async function collectClusterUsage(
  scope: Scope,
): Promise<{ cluster: ClusterView; reports: (ContainerUsage[] | null)[] }> {
  const names = scopedNames(scope);
  const cluster = await clusterActivities(names, 'which controllers are live').other.describeCluster(scope);
  const reports = await Promise.all(
    cluster.controllers.map(async ({ controllerId }) => {
      try {
        return (
          await controllerActivities(names, controllerId, `usage of ${controllerId}`).usage.collectUsage()
        ).usage;
      } catch (err) {
        log.warn('no usage from controller', { controllerId, error: String(err) });
        return null;
      }
    }),
  );
  return { cluster, reports };
}

export async function scaleDownWorkflow(input: ScaleDownWorkflowInput): Promise<ScaleDownResult> {
  const { cluster, reports } = await collectClusterUsage(input.scope);
  const pools = await signalIdle(
    input,
    reports.flatMap((r) => r ?? []),
  );
  return {
    controllers: cluster.controllers.length,
    answered: reports.filter((r) => r !== null).length,
    pools,
  };
}

/**
 * Tells each action pool which of its containers are idle; the pool removes those idle at least
 * `keepAliveMs`, above its action's minimum. The minimum is the owner's: the pools of other
 * namespaces' runs of the action (audit L9) keep none. Returns the number of pools told.
 */
export async function signalIdle(input: ScaleDownWorkflowInput, usage: ContainerUsage[]): Promise<number> {
  const names = scopedNames(input.scope);
  const byPool = new Map<string, { path: string | null; usage: ContainerUsage[] }>();
  for (const u of usage) {
    if (!u.action) continue; // stem cells are kept at target by their own pool
    const id = names.actionPoolId(u.action);
    const path = u.action.invoker === undefined ? actionPath(u.action) : null;
    const entry = byPool.get(id) ?? { path, usage: [] };
    entry.usage.push(u);
    byPool.set(id, entry);
  }
  await Promise.all(
    [...byPool].map(async ([id, { path, usage }]) => {
      try {
        await getExternalWorkflowHandle(id).signal(scaleDownSignal, {
          keepAliveMs: input.keepAliveMs,
          minContainers: path === null ? 0 : (input.minContainers?.[path] ?? 0),
          usage,
        });
      } catch (err) {
        log.warn('pool did not take the scale-down signal', { pool: id, error: String(err) });
      }
    }),
  );
  return byPool.size;
}
