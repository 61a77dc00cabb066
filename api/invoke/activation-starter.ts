// THE entry point that starts an activation of an action: the invoke route, and compositions
// (sequences, triggers/rules, conductors, web actions) all start theirs here.
//
//   starter.start(action, params, identity, context?) → { kind: 'started', activationId, completion }
//                                                    | { kind: 'refused', error }
//
// - `params` are the final parameters (already merged over package and action defaults).
// - `identity` is whose activation it is: it is recorded in `identity.namespace`, as `subject`.
// - `context.cause` is the id of the activation that started this one (a sequence's, a
//   conductor's); the record gets `causedBy`. `context.annotations` are added to the record
//   (`binding`). `context.transactionId` is the request's (a fresh one when absent).
// - `refused` is decided synchronously and nothing was recorded: `error` is the coded answer
//   (503 while the activation writer is saturated, 429 while the action's queue is full).
// - `completion` resolves once the activation has run, with its record (`logs` still empty: they
//   are collected after the result and go to the store with the record). It never rejects:
//   every failure, the platform's included, is a record with the matching status. Every started
//   activation is handed to the ActivationWriter exactly once.
// - `settle(graceMs)` is the controller's last word before it closes the writer: it waits for the
//   running activations, and records the ones still running after the grace as whisk errors.
import { newActivationId } from '../../common/activation-id';
import type { Logger } from '../../common/logger';
import { withDeadline } from '../../common/deadline';
import { actionPath } from '../../common/names';
import type { Action, Activation, KeyValue } from '../../common/types';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import type { ActivationWriter } from '../activation-writer';
import type { Identity } from '../authenticator';
import { apiError, type ApiError } from '../errors';
import type { NamespaceThrottles } from '../namespace-throttles';
import { generateTransactionId } from '../transaction-id';
import { activationRecord } from './activation-record';
import { whiskError } from './classify';
import type { InvokeRequest, Invoker, Ran } from './invoker';
import { NO_OBSERVER, type InvokeObserver } from './observer';

export interface ActivationStarterDeps {
  invoker: Invoker;
  writer: Pick<ActivationWriter, 'write' | 'saturated'>;
  throttles: Pick<NamespaceThrottles, 'started' | 'finished'>;
  log: Logger;
  /** Told about refusals and every ended activation (metrics). @default NO_OBSERVER */
  observe?: InvokeObserver;
  now?: () => number;
}

/** How an activation ended: its record, with `logs` still empty. */
export interface Completion {
  activation: Activation;
}

export type StartResult =
  | { kind: 'started'; activationId: string; completion: Promise<Completion> }
  | { kind: 'refused'; error: ApiError };

/** What an activation knows besides its action, parameters and identity. */
export interface StartContext {
  cause?: string;
  annotations?: KeyValue[];
  /** The transaction id of the request that started it (X-Request-ID). */
  transactionId?: string;
  /** The action's `init: true` parameters for /init's environment (`params` lacks them). */
  initEnv?: Record<string, string>;
  /** The API key the action gets (`provide-api-key`), or a promise of it. */
  apiKey?: string | Promise<string>;
}

/** A started activation not yet handed to the writer. */
interface Running {
  request: InvokeRequest;
  received: number;
}

export class ActivationStarter {
  readonly #deps: ActivationStarterDeps;
  readonly #now: () => number;
  readonly #observe: InvokeObserver;
  /** By activation id: what `settle` waits for, and what it records if the grace runs out. */
  readonly #running = new Map<string, Running>();
  #settled: (() => void) | undefined;

  constructor(deps: ActivationStarterDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#observe = deps.observe ?? NO_OBSERVER;
  }

  start(
    action: Action,
    params: Record<string, unknown>,
    identity: Identity,
    context: StartContext = {},
  ): StartResult {
    const { cause, annotations } = context;
    const { invoker, writer, throttles } = this.#deps;
    // Accepting more work than the writer can store would mean dropping records later.
    if (writer.saturated) {
      this.#observe.refused('overloaded');
      return { kind: 'refused', error: apiError('GUST_ERR_LOAD_OVERLOADED') };
    }
    const request: InvokeRequest = {
      action,
      params,
      activationId: newActivationId(),
      transactionId: context.transactionId ?? generateTransactionId(),
      namespace: identity.namespace,
      subject: identity.subject,
    };
    if (cause !== undefined) request.cause = cause;
    if (annotations !== undefined && annotations.length > 0) request.annotations = annotations;
    if (context.initEnv !== undefined && Object.keys(context.initEnv).length > 0)
      request.initEnv = context.initEnv;
    if (context.apiKey !== undefined) request.apiKey = context.apiKey;
    const received = this.#now();
    const admission = invoker.invoke(request);
    if (admission.kind === 'refused') {
      if (admission.reason === 'control-plane-unavailable')
        return { kind: 'refused', error: apiError('GUST_ERR_CONTROL_PLANE_UNAVAILABLE') };
      const { queued, allowed } = admission;
      this.#observe.refused('queue-full');
      return {
        kind: 'refused',
        error: apiError('GUST_ERR_LOAD_QUEUE_FULL', actionPath(action), queued, allowed),
      };
    }
    throttles.started(identity.namespace);
    this.#running.set(request.activationId, { request, received });
    const completion = admission.ran
      .catch((error: unknown) => this.#platformFailure(request, received, error))
      .then((ran) => {
        throttles.finished(identity.namespace);
        this.#observe.completed(action, ran.activation);
        this.#recordWhenLogged(ran);
        return { activation: ran.activation };
      });
    return { kind: 'started', activationId: request.activationId, completion };
  }

  /** An invoker that broke its promise never to reject: still a record, as a whisk error. */
  #platformFailure(request: InvokeRequest, received: number, error: unknown): Ran {
    this.#deps.log.error({ err: error, activationId: request.activationId }, 'the invoker failed');
    const activation = this.#whiskErrorRecord({ request, received }, WHISK_MESSAGES.provisionFailed);
    return { activation, logs: Promise.resolve([]) };
  }

  #whiskErrorRecord({ request, received }: Running, message: string): Activation {
    const timing = { start: received, end: this.#now(), waitTime: 0, timeout: false };
    return activationRecord(request, whiskError(message), timing);
  }

  #recordWhenLogged({ activation, logs }: Ran): void {
    void logs.then(
      (lines) => this.#record({ ...activation, logs: lines }),
      () => this.#record(activation),
    );
  }

  /** Hands a started activation's record to the writer, once: `settle` may have recorded it already. */
  #record(activation: Activation): void {
    if (!this.#running.delete(activation.activationId)) return;
    try {
      this.#deps.writer.write(activation);
    } catch (error) {
      this.#deps.log.error(
        { err: error, activationId: activation.activationId },
        'activation was not recorded',
      );
    }
    if (this.#running.size === 0) this.#settled?.();
  }

  /**
   * Resolves once every started activation is handed to the writer. Those still running after
   * `graceMs` are recorded now as whisk errors (their results, should they come, are dropped), so
   * a stopping controller loses none. Resolves with how many that were.
   */
  async settle(graceMs: number): Promise<number> {
    if (this.#running.size > 0) {
      const settled = new Promise<void>((resolve) => (this.#settled = resolve));
      await withDeadline(settled, graceMs).catch(() => undefined);
    }
    const abandoned = [...this.#running.values()];
    const message = WHISK_MESSAGES.controllerStopped(graceMs);
    for (const running of abandoned) this.#record(this.#whiskErrorRecord(running, message));
    return abandoned.length;
  }
}
