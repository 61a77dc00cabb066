// Activities of the Knative service workflow (GUST_BACKEND=knative).
//   provisioner (`gust-provisioning`): apply the action's Service from the entity store (the code
//     never travels through Temporal's history), wait until it is Ready, delete it.
//   controller (`controller-<id>`): take or drop the route of an action version (KnativeRoutes).
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { KnativeRoutes } from '../api/invoke/knative-invoker';
import { resolveRuntimeKind, runtimeImage } from '../api/runtimes';
import { serviceRuntimeSecret } from '../backends/knative/service-spec';
import { KnativeServiceNotReady, type KnativeServices } from '../backends/knative/services';
import type { GustConfig } from '../common/config';
import type { Action } from '../common/types';
import type { EntityStore } from '../store/entity-store';
import type {
  AppliedKnativeService,
  KnativeRouteMessage,
  KnativeServiceKey,
  ReadyKnativeService,
} from '../workflows/knative-messages';

export interface KnativeActivitiesOptions {
  services: KnativeServices;
  entities: EntityStore;
  config: Pick<GustConfig, 'knative' | 'pools' | 'controller' | 'agent'>;
}

function imageOf(action: Action): string {
  if (action.exec.image) return action.exec.image;
  const kind = resolveRuntimeKind(action.exec.kind);
  if (!kind)
    throw ApplicationFailure.nonRetryable(`no image for kind ${action.exec.kind}`, 'KnativeRevisionFailed');
  return runtimeImage(kind);
}

/** Knative reports this for a revision that will never serve (image missing, crash at start). */
const DEVELOPER_FAILURE = /image|ErrImage|ImagePull|ContainerMissing|exited|CrashLoopBackOff|executable/i;

export function createKnativeActivities({ services, entities, config }: KnativeActivitiesOptions) {
  return {
    /** `invoker`: the Service of another namespace's runs of the action (audit L9). */
    async applyKnativeService(input: KnativeServiceKey): Promise<AppliedKnativeService> {
      const action = await entities.get<Action>('actions', input.namespace, input.name);
      if (!action) {
        throw ApplicationFailure.nonRetryable(
          `action ${input.namespace}/${input.name} does not exist`,
          'ActionNotFound',
        );
      }
      // The minimum is the owner's: the Services of other namespaces' runs scale to zero (audit L9).
      const minScale =
        input.invoker === undefined
          ? (config.pools.minContainersPerAction[`${input.namespace}/${input.name}`] ?? 0)
          : 0;
      return services.apply(action, {
        image: imageOf(action),
        imagePullPolicy: config.knative.imagePullPolicy,
        apiHost: config.controller.apiHost,
        minScale,
        maxScale: config.knative.maxScale,
        keepAliveMs: config.pools.keepAliveMs,
        runtimeSecret: serviceRuntimeSecret(
          config.agent.runtimeSecretKey,
          input.namespace,
          input.name,
          input.invoker,
        ),
        ...(input.invoker === undefined ? {} : { invoker: input.invoker }),
      });
    },

    async awaitKnativeServiceReady(applied: AppliedKnativeService): Promise<ReadyKnativeService> {
      try {
        const ready = await services.waitReady(applied, {
          timeoutMs: config.knative.readyTimeoutMs,
          onPoll: () => heartbeat(),
        });
        return { host: ready.host, url: ready.url, revision: ready.revision };
      } catch (err) {
        if (err instanceof KnativeServiceNotReady) {
          const developer = err.failed && DEVELOPER_FAILURE.test(err.message);
          throw ApplicationFailure.nonRetryable(
            err.message,
            developer ? 'KnativeRevisionFailed' : 'KnativeNotReady',
          );
        }
        throw err;
      }
    },

    /**
     * The Service of another namespace's runs (`invoker`), or, for the action's own workflow (the
     * action was deleted), every Service of the action.
     */
    async deleteKnativeService(input: KnativeServiceKey): Promise<void> {
      if (input.invoker === undefined) await services.deleteAllOf(input.namespace, input.name);
      else await services.delete(input.namespace, input.name, input.invoker);
    },
  };
}

export function createKnativeRouteActivities(routes: KnativeRoutes) {
  return {
    async routeKnativeService(route: KnativeRouteMessage): Promise<void> {
      routes.route(route);
    },
    async unrouteKnativeService(input: { namespace: string; name: string }): Promise<void> {
      routes.unroute(input.namespace, input.name);
    },
  };
}

export type KnativeActivities = ReturnType<typeof createKnativeActivities>;
export type KnativeRouteActivities = ReturnType<typeof createKnativeRouteActivities>;
