// Sequences (SequenceActions.scala, docs/reference/openwhisk-contract.md §7): run component by
// component, blocking, each result feeding the next; and the create-time check of a sequence's
// components.
import type { Action, Activation } from '../../common/types';
import { actionPath } from '../../common/names';
import { SEQUENCE_KIND } from '../action-model';
import type { ResolvedAction } from '../action-resolution';
import { parseQualifiedName, resolveAction } from '../action-resolution';
import { response, whiskError } from '../invoke/classify';
import type { EntityCache } from '../entity-cache';
import { apiError, isApiError } from '../errors';
import { settledWithin } from '../settled-within';
import type { StartResult } from '../invoke/activation-starter';
import type {
  CompositionStarter,
  CompositionBudget,
  CompositionOutcome,
  StartRequest,
} from './composition-starter';
import { COMPOSITION_LIMITS } from './composition-starter';
import type { CompositionRun, CompositionStep } from './composition-record';

/** A component waits for its own time limit plus a minute (OpenWhisk's sequence ack timeout). */
export const componentWaitMs = (action: Action): number => action.limits.timeout + 60_000;

/** The start of a component of the composition `run`: its identity, cause and transaction. */
export const componentRequest = (
  run: CompositionRun,
  component: ResolvedAction,
  payload: Record<string, unknown>,
): StartRequest => ({
  ...component,
  payload,
  identity: run.identity,
  cause: run.activationId,
  transactionId: run.transactionId,
});

/**
 * A started component awaited as a step of a composition (sequence or conductor): its record is
 * added to `steps` and returned as `done`; otherwise `end` is the outcome the composition ends
 * with: a refusal's whisk error, or, when it is not done within `componentWaitMs`, the step
 * without a record and OpenWhisk's timeout message ("... activation <id> <timeoutWhere>.").
 */
export async function awaitComponent(
  steps: CompositionStep[],
  started: StartResult,
  action: Action,
  timeoutWhere: string,
): Promise<{ done: Activation } | { end: CompositionOutcome }> {
  if (started.kind === 'refused') return { end: { steps, response: whiskError(started.error.message) } };
  const done = await settledWithin(started.completion, componentWaitMs(action));
  if (!done) {
    steps.push({ activationId: started.activationId });
    const message = `Timeout reached when retrieving activation ${started.activationId} ${timeoutWhere}.`;
    return { end: { steps, response: whiskError(message) } };
  }
  steps.push({ activationId: started.activationId, record: done.activation });
  return { done: done.activation };
}

const applicationError = (error: string) => response('application error', { error });

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `/ns/[pkg/]name` as the caller may use it, or undefined if it is missing or not allowed. */
export async function resolveComponent(
  entities: EntityCache,
  component: string,
  caller: string,
): Promise<ResolvedAction | undefined> {
  const parsed = parseQualifiedName(component, caller);
  if (!parsed) return undefined;
  try {
    return await resolveAction(entities, parsed.namespace, parsed.pkg, parsed.name, caller);
  } catch (error) {
    if (isApiError(error) && error.statusCode < 500) return undefined;
    throw error;
  }
}

export async function runSequence(
  starter: CompositionStarter,
  run: CompositionRun,
  payload: Record<string, unknown>,
  budget: CompositionBudget,
): Promise<CompositionOutcome> {
  const caller = run.identity.namespace;
  // Every component is resolved (and entitled) up front, before the first one runs.
  const components = await Promise.all(
    (run.action.exec.components ?? []).map((c) => resolveComponent(starter.entities, c, caller)),
  );
  if (components.some((c) => c === undefined)) {
    return { steps: [], response: applicationError('Sequence component does not exist.') };
  }
  const steps: CompositionStep[] = [];
  let input = payload;
  let last = applicationError('Sequence component does not exist.');
  for (const component of components as ResolvedAction[]) {
    if (component.action.exec.kind !== SEQUENCE_KIND) {
      budget.sequenceActions += 1;
      if (budget.sequenceActions > COMPOSITION_LIMITS.sequenceActions) {
        return { steps, response: applicationError('Too many actions in the sequence.') };
      }
    }
    const started = starter.start(componentRequest(run, component, input), budget);
    const step = await awaitComponent(steps, started, component.action, 'for sequence component');
    if ('end' in step) return step.end;
    last = step.done.response;
    const result = last.result;
    if (!last.success || (isPlainObject(result) && 'error' in result)) break;
    input = isPlainObject(result) ? result : {};
  }
  return { steps, response: last };
}

/**
 * Create-time check (Actions.scala `checkSequenceActionLimits`): every component exists and may be
 * read, the sequence does not reach itself, and at most 50 atomic actions after inlining nested
 * sequences.
 */
export async function checkSequenceComponents(
  entities: EntityCache,
  sequencePath: string,
  components: string[],
  caller: string,
): Promise<void> {
  let atomic = 0;
  const visit = async (list: string[], depth: number): Promise<void> => {
    for (const component of list) {
      if (component.replace(/^\//, '') === sequencePath) throw apiError('GUST_ERR_SEQUENCE_CYCLE');
      const resolved = await resolveComponent(entities, component, caller);
      if (!resolved) throw apiError('GUST_ERR_SEQUENCE_COMPONENT_MISSING');
      const { action } = resolved;
      if (actionPath(action) === sequencePath) throw apiError('GUST_ERR_SEQUENCE_CYCLE');
      if (action.exec.kind === SEQUENCE_KIND) {
        // A cycle not through this sequence cannot be stored, but a deep chain still ends here.
        if (depth > COMPOSITION_LIMITS.sequenceActions) throw apiError('GUST_ERR_SEQUENCE_TOO_LONG');
        await visit(action.exec.components ?? [], depth + 1);
      } else {
        atomic += 1;
        if (atomic > COMPOSITION_LIMITS.sequenceActions) throw apiError('GUST_ERR_SEQUENCE_TOO_LONG');
      }
    }
  };
  await visit(components, 0);
}
