// Starting an activation: id, in-flight accounting, the Invoker call, and the record's way to the
// ActivationWriter once its logs are collected. HTTP concerns (blocking wait, status codes) stay
// in the invoke route.
import { randomUUID } from 'node:crypto';
import { actionPath } from '../common/names';
import type { Action, Activation, KeyValue } from '../common/types';
import { whiskError } from './activation-result';
import type { ActivationWriter } from './activation-writer';
import type { Identity } from './authenticator';
import type { Invoker } from './invoker';
import { keyValueOf } from './key-values';
import type { NamespaceThrottles } from './namespace-throttles';

export interface InvocationsDeps {
  invoker: Invoker;
  writer: ActivationWriter;
  throttles: NamespaceThrottles;
  now?: () => number;
  /** Told when a record cannot be handed to the writer or an invoke fails inside the platform. */
  onError?: (message: string, error: unknown) => void;
}

/** How an activation ended: its record (logs still empty) and, for platform failures, why. */
export interface Completion {
  activation: Activation;
  platformError?: unknown;
}

export interface StartedInvocation {
  activationId: string;
  completion: Promise<Completion>;
}

/** 32 lowercase hex: a random UUID without dashes (entity/ActivationId.scala). */
export const newActivationId = (): string => randomUUID().replace(/-/g, '');

const LOG_FAILURE = 'There was an issue while collecting your logs. Data might be missing.';

export class Invocations {
  readonly #deps: InvocationsDeps;
  readonly #now: () => number;

  constructor(deps: InvocationsDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Never rejects: platform failures become `whisk internal error` records. `cause` is the id of
   * the enclosing sequence or composition (the record gets `causedBy`); `annotations` are added
   * to the record (e.g. `binding`).
   */
  start(
    action: Action,
    params: Record<string, unknown>,
    identity: Identity,
    cause?: string,
    annotations: KeyValue[] = [],
  ): StartedInvocation {
    const { invoker, throttles } = this.#deps;
    const activationId = newActivationId();
    const received = this.#now();
    throttles.started(identity.namespace);
    const request = {
      action,
      params,
      activationId,
      namespace: identity.namespace,
      subject: identity.subject,
      cause,
    };
    const completion = invoker
      .invoke(request)
      .then(
        (outcome): Completion => {
          const activation = withActionAnnotations(outcome.activation, action, cause, annotations);
          this.#recordWhenLogged(activation, outcome.logs);
          return { activation };
        },
        (error: unknown): Completion => {
          this.#deps.onError?.(`invoke of ${actionPath(action)} failed in the platform`, error);
          const activation = this.#platformFailure(
            action,
            identity,
            activationId,
            received,
            cause,
            annotations,
          );
          this.#recordWhenLogged(activation, Promise.resolve([]));
          return { activation, platformError: error };
        },
      )
      .finally(() => throttles.finished(identity.namespace));
    return { activationId, completion };
  }

  #recordWhenLogged(activation: Activation, logs: Promise<string[]>): void {
    const write = (lines: string[]): void => {
      try {
        this.#deps.writer.write({ ...activation, logs: lines });
      } catch (error) {
        this.#deps.onError?.(`activation ${activation.activationId} was not recorded`, error);
      }
    };
    logs.then(write, () => write([LOG_FAILURE]));
  }

  #platformFailure(
    action: Action,
    identity: Identity,
    activationId: string,
    start: number,
    cause: string | undefined,
    annotations: KeyValue[],
  ): Activation {
    const end = this.#now();
    const response = whiskError('Failed to provision resources to run the action.');
    const record: Activation = {
      namespace: identity.namespace,
      name: action.name,
      version: action.version,
      subject: identity.subject,
      activationId,
      start,
      end,
      duration: end - start,
      statusCode: response.statusCode,
      response,
      logs: [],
      annotations: withActionAnnotations({ annotations: [] as KeyValue[] }, action, cause, annotations)
        .annotations,
      publish: false,
    };
    if (cause !== undefined) record.cause = cause;
    return record;
  }
}

/**
 * path, kind and limits, unless the invoker already set them (contract §5.3); `causedBy` for a
 * component of a sequence or composition; the caller's extra annotations.
 */
function withActionAnnotations<T extends { annotations: KeyValue[] }>(
  record: T,
  action: Action,
  cause?: string,
  extra: KeyValue[] = [],
): T {
  const missing: KeyValue[] = [...extra];
  if (cause !== undefined && keyValueOf(record.annotations, 'causedBy') === undefined)
    missing.push({ key: 'causedBy', value: 'sequence' });
  if (keyValueOf(record.annotations, 'path') === undefined)
    missing.push({ key: 'path', value: actionPath(action) });
  if (keyValueOf(record.annotations, 'kind') === undefined)
    missing.push({ key: 'kind', value: action.exec.kind });
  if (keyValueOf(record.annotations, 'limits') === undefined)
    missing.push({ key: 'limits', value: action.limits });
  return missing.length === 0 ? record : { ...record, annotations: [...record.annotations, ...missing] };
}
