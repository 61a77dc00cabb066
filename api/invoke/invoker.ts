// The contract between the activation starter and the container invoker (router + runtime client).
import type { Action, Activation, KeyValue } from '../../common/types';

export interface InvokeRequest {
  action: Action;
  /** Invocation parameters, already merged over the action's default parameters. */
  params: Record<string, unknown>;
  activationId: string;
  /**
   * The request's transaction id (X-Request-ID), `transaction_id` on /run
   * (docs/reference/openwhisk-contract.md §6.3).
   */
  transactionId: string;
  /** The caller's namespace (the activation is recorded there) and subject. */
  namespace: string;
  subject: string;
  /** The activation that started this one (sequences, triggers, conductors). */
  cause?: string;
  /**
   * The key for `api_key` / `__OW_API_KEY` (`provide-api-key`; '' when the caller has none); a
   * promise only while a controller first reads a namespace's key (ActionKeys). Never rejects.
   */
  apiKey?: string | Promise<string>;
  /** `init: true` parameters, stringified: /init's environment gets them (not /run's value). */
  initEnv?: Record<string, string>;
  /** Added to the record's annotations (e.g. `binding`, when invoked through a package binding). */
  annotations?: KeyValue[];
}

/** A finished activation: its record (with empty `logs`) and its logs, collected after the result. */
export interface Ran {
  activation: Activation;
  /** Log lines (sentinel framing); [] when there are none. Never rejects. */
  logs: Promise<string[]>;
}

/**
 * Whether the invoker took the activation. Decided synchronously: a refused activation never got
 * a record, so the caller can answer 429 at once.
 * - `admitted`: it runs; `ran` never rejects (every failure is a record with the matching status).
 * - `refused`: the action's queue is full (`queued` requests, `allowed` at most), or the
 *   activation needs a new container while the control path (Temporal) does not answer.
 */
export type Admission =
  | { kind: 'admitted'; ran: Promise<Ran> }
  | { kind: 'refused'; reason: 'queue-full'; queued: number; allowed: number }
  | { kind: 'refused'; reason: 'control-plane-unavailable' };

export interface Invoker {
  /**
   * Runs one activation to completion: picks or provisions a container, /init if needed, /run
   * with the action's time limit.
   */
  invoke(request: InvokeRequest): Admission;
  /**
   * The action was deleted (after the store said so). Backends whose resources live per action
   * (knative: its Service) remove them; the others let scale-down reclaim idle containers.
   */
  actionDeleted?(action: Action): void;
}
