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
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createControllerActivities } from '../activities/controller';
import { createKnativeRouteActivities } from '../activities/knative';
import type { KnativeRoutes } from '../api/invoke/knative-invoker';
import type { GustConfig } from '../common/config';
import type { RouterLeases } from '../common/contracts';
import { createLogger, type Logger } from '../common/logger';
import { tracing } from '../common/tracing';
import { controllerHeartbeatSignal, controllerLeftSignal } from '../workflows/messages';
import { DEFAULT_SCOPE, scopedNames, type Scope } from '../workflows/scope';
import { refuseDuplicateId } from './duplicate-ids';
import {
  every,
  heartbeatIntervalMs,
  leaveRegistry,
  signalHostsWorkflow,
  superviseWorker,
  type RunningWorker,
} from './temporal';

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
  const beat = (): Promise<void> =>
    signalHostsWorkflow(client, scope, config, controllerHeartbeatSignal, { controllerId, incarnation });
  const log = options.log ?? createLogger('warn');
  await refuseDuplicateId(
    client,
    scope,
    { kind: 'controller', id: controllerId },
    heartbeatIntervalMs(config),
    {
      replaces: options.replaces,
    },
  );
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
        ...tracing()?.workerOptions,
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
    async stop() {
      await supervised.stop();
      // Its containers go back to their pools now, not a lease timeout later.
      await leaveRegistry(client, scope, controllerLeftSignal, { controllerId, incarnation }, log);
    },
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
