// What a controller asks of the Knative service workflows (GUST_BACKEND=knative), over a Temporal
// client: route an action version here (signal-with-start: the first request creates the
// workflow), or delete the action's Service when the action is deleted.
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { KnativeControl } from '../api/invoke/knative-invoker';
import { actionRefOf } from '../common/names';
import type { Action } from '../common/types';
import { knativeServiceDeletedSignal, knativeServiceRequestedSignal } from '../workflows/knative-messages';
import { DEFAULT_SCOPE, scopedNames, type Scope } from '../workflows/scope';
import { knativeServiceStartOptions } from '../workflows/start-options';
import { isWorkflowGone } from '../common/temporal-errors';

export function createKnativeControl(options: {
  client: Client;
  controllerId: string;
  scope?: Scope;
}): KnativeControl {
  const { client, controllerId } = options;
  const scope = options.scope ?? DEFAULT_SCOPE;
  return {
    async requestService(action: Action): Promise<void> {
      const { namespace, name } = action;
      await client.workflow.signalWithStart('knativeServiceWorkflow', {
        ...knativeServiceStartOptions({ scope, namespace, name }),
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        signal: knativeServiceRequestedSignal,
        signalArgs: [{ controllerId, ref: actionRefOf(action) }],
      });
    },

    /** The workflow deletes the Service and ends; no workflow, nothing to delete. */
    async deleteService(namespace: string, name: string): Promise<void> {
      try {
        await client.workflow
          .getHandle(scopedNames(scope).knativeServiceId(namespace, name))
          .signal(knativeServiceDeletedSignal);
      } catch (err) {
        if (!isWorkflowGone(err)) throw err;
      }
    },
  };
}
