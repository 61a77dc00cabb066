// Conductor actions (PrimitiveActions.scala `invokeComposition`, WskConductorTests): the conductor
// returns `{action, params, state}`, Gust runs `action` on `params`, then runs the conductor again
// on that result plus `state`, until the conductor returns no `action`.
import { response } from '../invoke/classify';
import { isApiError } from '../errors';
import { resolveAction } from '../action-resolution';
import type {
  CompositionStarter,
  CompositionBudget,
  CompositionOutcome,
  StartRequest,
} from './composition-starter';
import { COMPOSITION_LIMITS } from './composition-starter';
import type { CompositionRun, CompositionStep } from './composition-record';
import { awaitComponent, componentRequest, isPlainObject } from './sequence';

const tooMany = () => response('application error', { error: 'Too many actions in the composition.' });

/** Boxes a non-object as `{[key]: v}`; absent → {}. */
const boxed = (value: unknown, key: string): Record<string, unknown> =>
  value === undefined ? {} : isPlainObject(value) ? value : { [key]: value };

export async function runConductor(
  starter: CompositionStarter,
  run: CompositionRun,
  conductor: StartRequest,
  budget: CompositionBudget,
): Promise<CompositionOutcome> {
  const steps: CompositionStep[] = [];
  const caller = run.identity.namespace;
  let input = conductor.payload;
  let state: Record<string, unknown> = {};
  for (;;) {
    budget.conductorRuns += 1;
    if (budget.conductorRuns > COMPOSITION_LIMITS.conductorRuns) return { steps, response: tooMany() };
    const started = starter.startPrimitive({
      ...conductor,
      payload: { ...input, ...state },
      cause: run.activationId,
    });
    const step = await awaitComponent(steps, started, conductor.action, DURING_COMPOSITION);
    if ('end' in step) return step.end;
    const outcome = step.done.response;
    const result = outcome.result;
    if (!outcome.success || !isPlainObject(result)) return { steps, response: outcome };
    if (result.action === undefined) {
      return { steps, response: { ...outcome, result: 'params' in result ? result.params : result } };
    }
    state = boxed(result.state, 'state');
    const params = boxed(result.params, 'value');
    budget.compositionComponents += 1;
    if (budget.compositionComponents > COMPOSITION_LIMITS.compositionComponents) {
      return { steps, response: tooMany() };
    }
    const target = await resolveComposed(starter, result.action, caller);
    if ('error' in target) {
      input = target;
      continue;
    }
    const component = starter.start(componentRequest(run, target, params), budget);
    const componentStep = await awaitComponent(steps, component, target.action, DURING_COMPOSITION);
    if ('end' in componentStep) return componentStep.end;
    // The conductor sees the component's result, errors included: handling them is its job.
    const componentResult = componentStep.done.response.result;
    input = isPlainObject(componentResult) ? componentResult : {};
  }
}

const DURING_COMPOSITION = 'during composition';

/** The component named by a conductor's `action`, or the `{error}` the conductor is told instead. */
async function resolveComposed(
  starter: CompositionStarter,
  name: unknown,
  caller: string,
): Promise<Awaited<ReturnType<typeof resolveAction>> | { error: string }> {
  const parts = typeof name === 'string' ? name.replace(/^\//, '').split('/') : [];
  const qualified = typeof name === 'string' && name.startsWith('/');
  if (parts.length === 0 || parts.some((p) => p === '') || parts.length > (qualified ? 3 : 2)) {
    return {
      error: `Failed to parse action name from json value ${JSON.stringify(name)} during composition.`,
    };
  }
  const [namespace, pkg, action] = qualified
    ? parts.length === 3
      ? [parts[0]!, parts[1], parts[2]!]
      : [parts[0]!, undefined, parts[1]!]
    : parts.length === 2
      ? [caller, parts[0], parts[1]!]
      : [caller, undefined, parts[0]!];
  try {
    return await resolveAction(starter.entities, namespace === '_' ? caller : namespace, pkg, action, caller);
  } catch (error) {
    if (isApiError(error) && error.statusCode === 403) {
      return { error: `Failed entitlement check for action with name '${String(name)}' during composition.` };
    }
    if (isApiError(error) && error.statusCode < 500) {
      return { error: `Failed to resolve action with name '${String(name)}' during composition.` };
    }
    throw error;
  }
}
