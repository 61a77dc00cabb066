// The Knative service workflow (GUST_BACKEND=knative): one per action (id `knative/<ns>/<action>`),
// it owns the action's Knative Service; and one per other namespace that runs it
// (`knative/<ns>/<action>~<invoker>`, audit L9), owning the Service of that namespace's runs. A controller that has no route for an action version
// signals `knativeServiceRequested`; the workflow applies that version (create, or update: a new
// revision; Knative drains the old one), waits until the Service is Ready with the generation it
// wrote, and pushes the Service's host to the controllers that asked (activity on each
// controller's queue). `knativeServiceDeleted` (the action was deleted) deletes the Service and
// ends the workflow. Each step is an activity with its own summary, so the Temporal UI shows the
// rollout as it shows a container's creation on the docker backend.
//
// Stem cells and Gust's scale-down do not apply here: Knative scales the revision's pods.
import { ApplicationFailure, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { containerKeyPath } from '../common/names';
import { knativeActivities } from './activities';
import {
  knativeServiceDeletedSignal,
  knativeServiceQuery,
  knativeServiceRequestedSignal,
  type KnativeRouteMessage,
  type KnativeServiceInput,
  type KnativeServiceRequest,
  type KnativeServiceState,
} from './knative-messages';
import { scopedNames } from './scope';

/** Rollouts before the history is handed to a fresh run. */
const ROLLOUTS_PER_RUN = 50;

function failureOf(err: unknown): { message: string; developerError: boolean } {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const failure = cause instanceof ApplicationFailure ? cause : undefined;
  const message = (failure?.message ?? (cause as Error)?.message ?? String(err)).trim();
  return { message, developerError: failure?.type === 'KnativeRevisionFailed' };
}

export async function knativeServiceWorkflow(input: KnativeServiceInput): Promise<void> {
  const names = scopedNames(input.scope);
  const path = containerKeyPath(input);
  // Which Service the activities apply and delete (an invoker only for another namespace's runs).
  const key = {
    namespace: input.namespace,
    name: input.name,
    ...(input.invoker ? { invoker: input.invoker } : {}),
  };
  const state: KnativeServiceState = input.state ?? { controllers: [], pending: [] };
  let deleted = false;

  setHandler(knativeServiceRequestedSignal, (request: KnativeServiceRequest) => {
    if (!state.controllers.includes(request.controllerId)) state.controllers.push(request.controllerId);
    state.pending.push(request);
  });
  setHandler(knativeServiceDeletedSignal, () => {
    deleted = true;
  });
  setHandler(knativeServiceQuery, () => state);

  const push = async (controllerId: string, route: KnativeRouteMessage, summary: string): Promise<void> => {
    try {
      await knativeActivities.controller(names, controllerId, summary).routeKnativeService(route);
    } catch {
      // A controller that went away asks again when it needs the action; forget it.
      state.controllers = state.controllers.filter((c) => c !== controllerId);
    }
  };

  for (let rollouts = 0; rollouts < ROLLOUTS_PER_RUN;) {
    await condition(() => deleted || state.pending.length > 0);
    if (deleted) break;
    const requests = state.pending.splice(0);
    const wanted = requests[requests.length - 1]!.ref;
    if (
      state.current?.version !== wanted.version ||
      requests.some((r) => r.ref.version !== state.current?.version)
    ) {
      rollouts++;
      try {
        const applied = await knativeActivities
          .provisioner(names, `Apply Knative Service of ${path}@${wanted.version}`)
          .applyKnativeService(key);
        const ready = await knativeActivities
          .waitReady(
            names,
            `Wait until ${applied.name} is Ready (generation ${applied.generation}, ${path}@${applied.version})`,
          )
          .awaitKnativeServiceReady(applied);
        state.current = { ...ready, version: applied.version };
      } catch (err) {
        const { message, developerError } = failureOf(err);
        for (const request of requests) {
          await push(
            request.controllerId,
            { ref: request.ref, failure: message, developerError },
            `Tell ${request.controllerId}: ${path}@${request.ref.version} cannot be served`,
          );
        }
        continue;
      }
    }
    const current = state.current!;
    // The Service serves its latest revision: every version asked for is routed to it.
    for (const request of requests) {
      await push(
        request.controllerId,
        { ref: request.ref, host: current.host, revision: current.revision },
        `Route ${path}@${request.ref.version} on ${request.controllerId} → ${current.host} (${current.revision})`,
      );
    }
  }

  if (!deleted) {
    await continueAsNew<typeof knativeServiceWorkflow>({ ...input, state });
    return;
  }
  await knativeActivities.provisioner(names, `Delete Knative Service of ${path}`).deleteKnativeService(key);
  for (const controllerId of state.controllers) {
    await knativeActivities
      .controller(names, controllerId, `Unroute ${path} on ${controllerId}`)
      .unrouteKnativeService({ namespace: input.namespace, name: input.name })
      .catch(() => undefined);
  }
}
