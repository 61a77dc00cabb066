// The controller's side of the control path: a Temporal worker on `controller-<controllerId>` that
// exposes the router (RouterLeases) to the workflows as activities — leaseContainers,
// revokeContainers, collectUsage — and keeps the controller registered with the hosts workflow.
// Each start is a new incarnation: a restarted controller starts empty and the pools reclaim the
// leases of its previous incarnation.
//
// Public surface:
//   startControllerWorker(options: ControllerWorkerOptions): Promise<RunningController>
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createControllerActivities } from '../activities/controller';
import { createKnativeRouteActivities } from '../activities/knative';
import type { KnativeRoutes } from '../api/invoke/knative-invoker';
import type { GustConfig } from '../common/config';
import type { RouterLeases } from '../common/contracts';
import { withDeadline } from '../common/deadline';
import { createLogger, type Logger } from '../common/logger';
import { clusterQuery, controllerHeartbeatSignal } from '../workflows/messages';
import { DEFAULT_SCOPE, scopedNames, type Scope } from '../workflows/scope';
import { hostsStartOptions } from '../workflows/start-options';
import { every, heartbeatIntervalMs, superviseWorker, type RunningWorker } from './temporal';

export interface ControllerWorkerOptions {
  connection: NativeConnection;
  client: Client;
  controllerId: string;
  routerLeases: RouterLeases;
  /** GUST_BACKEND=knative: the Knative workflows push the routes of action versions here. */
  knativeRoutes?: KnativeRoutes;
  config: Pick<GustConfig, 'pools'>;
  /** @default DEFAULT_SCOPE (no prefix) */
  scope?: Scope;
  /** Where heartbeat failures go. @default a pino logger at `warn` */
  log?: Logger;
  /** The incarnation this one replaces in the same process (a restart): not a duplicate. */
  replaces?: string;
}

export interface RunningController extends Omit<RunningWorker, 'worker'> {
  readonly controllerId: string;
  readonly incarnation: string;
  /** Workers started again after the previous one failed. */
  readonly restarts: number;
  /** The worker running now (undefined while Temporal has not let one start). */
  readonly worker: Worker | undefined;
}

export async function startControllerWorker(options: ControllerWorkerOptions): Promise<RunningController> {
  const { connection, client, controllerId, routerLeases, config } = options;
  const scope = options.scope ?? DEFAULT_SCOPE;
  // Sortable by start time (isLeaseStale compares them), unique by the random part.
  const incarnation = `${String(Date.now()).padStart(15, '0')}-${randomUUID()}`;
  const beat = async (): Promise<void> => {
    await client.workflow.signalWithStart('hostsWorkflow', {
      ...hostsStartOptions({ scope, leaseTimeoutMs: config.pools.leaseTimeoutMs }),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      signal: controllerHeartbeatSignal,
      signalArgs: [{ controllerId, incarnation }],
    });
  };
  const log = options.log ?? createLogger('warn');
  await refuseDuplicateId(client, scope, controllerId, heartbeatIntervalMs(config), options.replaces);
  const stopBeating = every(heartbeatIntervalMs(config), beat, (err) =>
    log.warn({ err, controllerId }, 'controller heartbeat failed'),
  );
  // The HTTP side serves whatever happens here: a failed worker is started again (same
  // incarnation, so its leases stay valid), and a controller starts even while Temporal is down.
  const supervised = await superviseWorker(
    async () => {
      // Registered before polling: no lease can reach this incarnation before the registry knows it.
      await beat();
      return Worker.create({
        connection,
        namespace: client.options.namespace,
        taskQueue: scopedNames(scope).controllerQueue(controllerId),
        activities: {
          ...createControllerActivities({ routerLeases, incarnation }),
          ...(options.knativeRoutes ? createKnativeRouteActivities(options.knativeRoutes) : {}),
        },
      });
    },
    {
      onStop: stopBeating,
      onError: (err) =>
        log.warn({ err, controllerId }, 'controller Temporal worker failed; starting it again'),
    },
  );
  return {
    done: supervised.done,
    stop: () => supervised.stop(),
    get restarts() {
      return supervised.restarts;
    },
    get worker() {
      return supervised.current;
    },
    controllerId,
    incarnation,
  };
}

/**
 * Audit M11: two running controllers with one id would replace each other's incarnation on every
 * heartbeat, and the pools would take the containers of each in turn. Before it registers, a
 * controller watches the registry for one heartbeat interval and a half: if an incarnation of its
 * id is still heartbeating, it refuses to start. One that stopped heartbeating (a crash, a
 * restart) is no obstacle; nor is a registry that does not answer (Temporal down: the controller
 * serves warm traffic meanwhile, and the duplicate shows in the logs of both).
 */
export async function refuseDuplicateId(
  client: Client,
  scope: Scope,
  controllerId: string,
  heartbeatMs: number,
  replaces?: string,
): Promise<void> {
  const hosts = client.workflow.getHandle(scopedNames(scope).hostsWorkflowId);
  const registered = async (): Promise<{ incarnation: string; lastSeen?: number } | undefined> => {
    const view = await withDeadline(hosts.query(clusterQuery), 2000);
    return view.controllers.find((c) => c.controllerId === controllerId);
  };
  let first: Awaited<ReturnType<typeof registered>>;
  try {
    first = await registered();
  } catch {
    return; // no registry yet, or Temporal does not answer
  }
  if (!first || first.incarnation === replaces || first.lastSeen === undefined) return;
  const deadline = Date.now() + 1.5 * heartbeatMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, heartbeatMs / 4)));
    const now = await registered().catch(() => undefined);
    if (!now) return; // expired: it is gone
    if (now.incarnation !== first.incarnation || (now.lastSeen ?? 0) > first.lastSeen) {
      throw new Error(
        `controller id '${controllerId}' is in use by a running controller (incarnation ${now.incarnation}): ` +
          'give every controller its own GUST_CONTROLLER_ID',
      );
    }
  }
}
