// How each control-path workflow is started: id, task queue, search attributes, UI summary. Shared
// by every starter (control plane, provisioner, activities) so a workflow looks the same in the UI
// whoever created it. No Node APIs.
import { ACTION_ATTR, KIND_ATTR, NAMESPACE_ATTR } from '../common/search-attributes';
import type { ActionPoolInput, ActionSpec, HostsInput, StemCellPoolInput } from './messages';
import type { KnativeServiceInput } from './knative-messages';
import type { MesosFrameworkInput } from './mesos-messages';
import { scopedNames, type Scope } from './scope';

/** `limits`: the pool's ceilings, read when it starts (continue-as-new keeps them). */
export function actionPoolStartOptions(
  scope: Scope,
  action: Pick<ActionSpec, 'ref' | 'kind' | 'memoryMB'>,
  limits: Pick<ActionPoolInput, 'maxContainers' | 'maxCreating'> = {},
) {
  const names = scopedNames(scope);
  const { namespace, name, invoker } = action.ref;
  const args: [ActionPoolInput] = [
    {
      scope,
      namespace,
      name,
      ...(invoker === undefined ? {} : { invoker }),
      ...(limits.maxContainers ? { maxContainers: limits.maxContainers } : {}),
      ...(limits.maxCreating ? { maxCreating: limits.maxCreating } : {}),
    },
  ];
  const forInvoker = invoker === undefined ? '' : ` invoked by namespace ${invoker}`;
  return {
    workflowId: names.actionPoolId(action.ref),
    taskQueue: names.provisioningQueue,
    args,
    typedSearchAttributes: [
      { key: NAMESPACE_ATTR, value: namespace },
      { key: ACTION_ATTR, value: name },
      { key: KIND_ATTR, value: action.kind },
    ],
    staticSummary: `Containers of action ${namespace}/${name}${forInvoker} (${action.kind}, ${action.memoryMB} MB)`,
  };
}

export function stemCellPoolStartOptions(input: StemCellPoolInput) {
  const names = scopedNames(input.scope);
  const args: [StemCellPoolInput] = [input];
  return {
    workflowId: names.stemCellPoolId(input.kind, input.memoryMB),
    taskQueue: names.provisioningQueue,
    args,
    typedSearchAttributes: [{ key: KIND_ATTR, value: input.kind }],
    staticSummary: `Stem cells ${input.kind} ${input.memoryMB} MB, ${input.perController} per controller`,
  };
}

export function hostsStartOptions(input: HostsInput) {
  const names = scopedNames(input.scope);
  const args: [HostsInput] = [input];
  return {
    workflowId: names.hostsWorkflowId,
    taskQueue: names.provisioningQueue,
    args,
    staticSummary: 'Registry of agents and controllers; container placement',
  };
}

export function mesosFrameworkStartOptions(input: MesosFrameworkInput) {
  const names = scopedNames(input.scope);
  const args: [MesosFrameworkInput] = [input];
  return {
    workflowId: names.mesosFrameworkId,
    taskQueue: names.provisioningQueue,
    args,
    staticSummary: `Mesos framework ${input.frameworkName}: subscription, offers and tasks`,
  };
}

export function knativeServiceStartOptions(input: KnativeServiceInput) {
  const names = scopedNames(input.scope);
  const args: [KnativeServiceInput] = [input];
  return {
    workflowId: names.knativeServiceId(input),
    taskQueue: names.provisioningQueue,
    args,
    typedSearchAttributes: [
      { key: NAMESPACE_ATTR, value: input.namespace },
      { key: ACTION_ATTR, value: input.name },
    ],
    staticSummary: `Knative Service of action ${input.namespace}/${input.name}${input.invoker === undefined ? '' : ` invoked by namespace ${input.invoker}`} (Knative routes and scales; no stem cells, no Gust scale-down)`,
  };
}
