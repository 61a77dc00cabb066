// The control-path workflows, bundled once (workers/temporal.ts) for the provisioner.
export { actionPoolWorkflow } from './action-pool';
export { stemCellPoolWorkflow } from './stem-cell-pool';
export { hostsWorkflow } from './hosts';
export { scaleDownWorkflow } from './scale-down';
export { evictionWorkflow } from './eviction';
export { reconcileWorkflow } from './reconcile';
export { mesosFrameworkWorkflow } from './mesos-framework';
export { alarmFireWorkflow } from './alarm-fire';
export { knativeServiceWorkflow } from './knative-service';
