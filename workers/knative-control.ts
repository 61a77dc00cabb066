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
    async requestService(action: Action, invokingNamespace?: string): Promise<void> {
      const ref = actionRefOf(action, invokingNamespace);
      const { namespace, name, invoker } = ref;
      await client.workflow.signalWithStart('knativeServiceWorkflow', {
        ...knativeServiceStartOptions({
          scope,
          namespace,
          name,
          ...(invoker === undefined ? {} : { invoker }),
        }),
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        signal: knativeServiceRequestedSignal,
        signalArgs: [{ controllerId, ref }],
      });
    },

    /**
     * The action's own workflow deletes every Service of the action and ends (started for that
     * when it is not running: another namespace's runs may have made Services of it, audit L9).
     * The workflows of other namespaces' runs that this controller knows end as well; one it does
     * not know stays idle, its Service gone, until a new action of that name is invoked by it.
     */
    async deleteService(namespace: string, name: string, invokers: string[]): Promise<void> {
      await client.workflow.signalWithStart('knativeServiceWorkflow', {
        ...knativeServiceStartOptions({ scope, namespace, name }),
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        signal: knativeServiceDeletedSignal,
        signalArgs: [],
      });
      for (const invoker of invokers) {
        try {
          await client.workflow
            .getHandle(scopedNames(scope).knativeServiceId({ namespace, name, invoker }))
            .signal(knativeServiceDeletedSignal);
        } catch (err) {
          if (!isWorkflowGone(err)) throw err;
        }
      }
    },
  };
}
