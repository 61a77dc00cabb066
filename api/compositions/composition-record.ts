// The activation record of a sequence or conductor composition (SequenceActions.scala,
// PrimitiveActions.scala `invokeComposition`): the last component's response, the component ids
// as `logs`, the sum of their durations, and OpenWhisk's annotations.
import { actionPath } from '../../common/names';
import type { Action, Activation, KeyValue } from '../../common/types';
import type { ActivationResponse } from '../invoke/classify';
import type { Identity } from '../authenticator';
import { keyValueOf } from '../key-values';

export interface CompositionRun {
  action: Action;
  identity: Identity;
  activationId: string;
  start: number;
  /** The enclosing composition's id; absent for the topmost. */
  cause?: string;
  binding?: string;
  transactionId?: string;
  conductor?: boolean;
  /** The record's `kind` annotation. @default 'sequence' */
  kind?: string;
}

/** One activation a composition started: its record, unless it did not finish in time. */
export interface CompositionStep {
  activationId: string;
  record?: Activation;
}

/** `steps` are the activations the composition ran, in order. */
export function compositionRecord(
  run: CompositionRun,
  steps: CompositionStep[],
  response: ActivationResponse,
  end: number,
): Activation {
  const components = steps.flatMap((step) => (step.record ? [step.record] : []));
  const { action } = run;
  const annotations: KeyValue[] = [
    { key: 'topmost', value: run.cause === undefined },
    { key: 'path', value: actionPath(action) },
    { key: 'kind', value: run.kind ?? 'sequence' },
    { key: 'waitTime', value: 0 },
  ];
  if (run.conductor) annotations.push({ key: 'conductor', value: true });
  if (run.cause !== undefined) annotations.push({ key: 'causedBy', value: 'sequence' });
  if (run.binding !== undefined) annotations.push({ key: 'binding', value: run.binding });
  if (steps.length > 0) {
    const memory = Math.max(0, ...components.map(memoryOf));
    annotations.push({
      key: 'limits',
      value: { timeout: action.limits.timeout, memory, logs: action.limits.logs, concurrency: 1 },
    });
  }
  const record: Activation = {
    namespace: run.identity.namespace,
    name: action.name,
    version: action.version,
    subject: run.identity.subject,
    activationId: run.activationId,
    start: run.start,
    end,
    duration: components.reduce((sum, c) => sum + c.duration, 0),
    statusCode: response.statusCode,
    response,
    logs: steps.map((step) => step.activationId),
    annotations,
    publish: false,
  };
  if (run.cause !== undefined) record.cause = run.cause;
  return record;
}

function memoryOf(record: Activation): number {
  const limits = keyValueOf(record.annotations, 'limits') as { memory?: unknown } | undefined;
  return typeof limits?.memory === 'number' ? limits.memory : 0;
}
