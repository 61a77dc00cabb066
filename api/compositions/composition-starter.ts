// Starts an activation of any kind of action: a primitive through the invoke core's one entry
// point (`ActivationStarter.start`, api/invoke/), or a sequence or conductor composition, which
// the controller runs itself with no container (SequenceActions.scala, PrimitiveActions.scala).
// The invoke route, rule firing, web actions and compositions' own components start here.
import type { Action, KeyValue } from '../../common/types';
import type { ActionKeys } from '../action-keys';
import type { ActivationWriter } from '../activation-writer';
import type { Identity } from '../authenticator';
import type { EntityCache } from '../entity-cache';
import type { ActivationStarter, StartResult } from '../invoke/activation-starter';
import { newActivationId } from '../../common/activation-id';
import type { ActivationResponse } from '../invoke/classify';
import { whiskError } from '../invoke/classify';
import { apiError } from '../errors';
import { isTruthy, keyValueOf, keyValuesToObject, mergeKeyValues } from '../key-values';
import { partitionInitArguments } from '../../common/init-parameters';
import { SEQUENCE_KIND } from '../action-model';
import { actionPath } from '../../common/names';
import { BUILTIN_KIND } from '../catalog/system-catalog';
import type { CompositionRun, CompositionStep } from './composition-record';
import { compositionRecord } from './composition-record';
import { runConductor } from './conductor';
import { runSequence } from './sequence';

export interface StartRequest {
  /** The resolved action (action-resolution.ts). */
  action: Action;
  /** Its package's (and binding's) parameters, lowest precedence. */
  packageParameters: KeyValue[];
  /** The invoke's own arguments, highest precedence. */
  payload: Record<string, unknown>;
  identity: Identity;
  /** The enclosing composition's activation id. */
  cause?: string;
  /** `ns/binding` when the action was reached through a binding. */
  binding?: string;
  /** The transaction id of the request that started it; components share their composition's. */
  transactionId?: string;
}

/** Counters one topmost composition shares with every composition nested in it. */
export interface CompositionBudget {
  /** Atomic actions a sequence tree has run. */
  sequenceActions: number;
  /** Components and conductor runs of a conductor tree. */
  compositionComponents: number;
  conductorRuns: number;
}

export const COMPOSITION_LIMITS = {
  /** OpenWhisk's `actionSequenceLimit`, also the `sequence_length` of GET /. */
  sequenceActions: 50,
  compositionComponents: 50,
  conductorRuns: 2 * 50 + 1,
} as const;

/** What a composition run decided: the steps it took and the response it ends with. */
export interface CompositionOutcome {
  steps: CompositionStep[];
  response: ActivationResponse;
}

/** A controller-native action (catalog kind `builtin`): its response from its arguments. */
export type BuiltinAction = (
  params: Record<string, unknown>,
  identity: Identity,
) => Promise<ActivationResponse>;

export interface CompositionStarterDeps {
  /** The keys actions annotated `provide-api-key` get; without it, none do. */
  keys?: Pick<ActionKeys, 'keyFor'>;
  /** By action path (`whisk.system/alarms/alarm`). */
  builtins?: Record<string, BuiltinAction>;
  entities: EntityCache;
  /** The invoke core's entry point, for primitives. */
  activations: ActivationStarter;
  writer: ActivationWriter;
  now?: () => number;
  onError?: (message: string, error: unknown) => void;
}

/**
 * `final: true`: a request may not override a parameter the package or action defines with a
 * non-null value (400 `Request defines parameters that are not allowed…`).
 */
export function assertFinalParametersKept(
  resolved: Pick<StartRequest, 'action' | 'packageParameters'>,
  payload: Record<string, unknown>,
): void {
  if (keyValueOf(resolved.action.annotations, 'final') !== true) return;
  const defaults = {
    ...keyValuesToObject(resolved.packageParameters),
    ...keyValuesToObject(resolved.action.parameters),
  };
  const locked = (key: string): boolean => defaults[key] !== undefined && defaults[key] !== null;
  if (Object.keys(payload).some(locked)) throw apiError('GUST_ERR_REQUEST_BAD_PARAMETERS');
}

export const isConductor = (action: Action): boolean => isTruthy(keyValueOf(action.annotations, 'conductor'));

/** `provide-api-key`: truthy or absent (OpenWhisk writes `false` on create, so legacy actions get it). */
export const providesApiKey = (action: Action): boolean =>
  isTruthy(keyValueOf(action.annotations, 'provide-api-key'), true);

export class CompositionStarter {
  readonly entities: EntityCache;
  readonly #deps: CompositionStarterDeps;
  readonly #now: () => number;

  constructor(deps: CompositionStarterDeps) {
    this.#deps = deps;
    this.entities = deps.entities;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * As `ActivationStarter.start`: `refused` at once (nothing recorded), or `started` with a
   * completion that never rejects and settles once the record is handed to the writer.
   */
  start(request: StartRequest, budget: CompositionBudget = newBudget()): StartResult {
    const { action } = request;
    if (action.exec.kind === SEQUENCE_KIND) {
      return this.#composition(request, (run) => runSequence(this, run, request.payload, budget));
    }
    if (action.exec.kind === BUILTIN_KIND) {
      const builtin = this.#deps.builtins?.[actionPath(action)];
      const params = this.#merged(request);
      return this.#composition(
        request,
        async () => ({
          steps: [],
          response: builtin
            ? await builtin(params, request.identity)
            : whiskError('This action is not available on this controller.'),
        }),
        false,
        BUILTIN_KIND,
      );
    }
    if (isConductor(action)) {
      return this.#composition(request, (run) => runConductor(this, run, request, budget), true);
    }
    return this.startPrimitive(request);
  }

  /** One primitive activation, whatever its annotations say (a conductor's own runs). */
  startPrimitive(request: StartRequest): StartResult {
    const { action } = request;
    const annotations = request.binding === undefined ? [] : [{ key: 'binding', value: request.binding }];
    const parameters = mergeKeyValues(request.packageParameters, action.parameters);
    const { run, initEnv } = partitionInitArguments(this.#merged(request), parameters);
    return this.#deps.activations.start(action, run, request.identity, {
      cause: request.cause,
      annotations,
      transactionId: request.transactionId,
      initEnv,
      apiKey: providesApiKey(action) ? this.#deps.keys?.keyFor(request.identity) : undefined,
    });
  }

  /** package < action < payload (Parameters.merge). */
  #merged(request: StartRequest): Record<string, unknown> {
    return {
      ...keyValuesToObject(request.packageParameters),
      ...keyValuesToObject(request.action.parameters),
      ...request.payload,
    };
  }

  #composition(
    request: StartRequest,
    run: (run: CompositionRun) => Promise<CompositionOutcome>,
    conductor = false,
    kind?: string,
  ): StartResult {
    if (this.#deps.writer.saturated) return { kind: 'refused', error: apiError('GUST_ERR_LOAD_OVERLOADED') };
    const compositionRun: CompositionRun = {
      action: request.action,
      identity: request.identity,
      activationId: newActivationId(),
      start: this.#now(),
      cause: request.cause,
      binding: request.binding,
      transactionId: request.transactionId,
      conductor,
      kind,
    };
    const completion = run(compositionRun)
      .catch((error: unknown): CompositionOutcome => {
        this.#deps.onError?.(`composition ${compositionRun.activationId} failed`, error);
        return {
          steps: [],
          response: whiskError(conductor ? 'Activation failure during composition.' : 'Sequence failed.'),
        };
      })
      .then(({ steps, response }) => {
        const activation = compositionRecord(compositionRun, steps, response, this.#now());
        try {
          this.#deps.writer.write(activation);
        } catch (error) {
          this.#deps.onError?.(`activation ${activation.activationId} was not recorded`, error);
        }
        return { activation };
      });
    return { kind: 'started', activationId: compositionRun.activationId, completion };
  }
}

export const newBudget = (): CompositionBudget => ({
  sequenceActions: 0,
  compositionComponents: 0,
  conductorRuns: 0,
});
