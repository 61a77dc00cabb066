// The contract between the invoke route and the hot path (router + runtime client).
import type { Action, Activation } from '../common/types';

export interface InvokeRequest {
  action: Action;
  /** Invocation parameters, already merged over the action's default parameters. */
  params: Record<string, unknown>;
  activationId: string;
  /** The caller's namespace (the activation is recorded there) and subject. */
  namespace: string;
  subject: string;
  /** For activations started by another (sequences, triggers). */
  cause?: string;
}

export interface InvokeOutcome {
  /** The completed record with empty `logs`; the response can be sent as soon as this exists. */
  activation: Activation;
  /** Log lines, collected after the result (sentinel framing); resolves to [] when there are none. */
  logs: Promise<string[]>;
}

export interface Invoker {
  /**
   * Runs one activation to completion: picks or provisions a container, /init if needed, /run
   * with the action's time limit. Never rejects for action failures: those are records with the
   * matching status. Rejects only when the platform itself cannot run it (e.g. the queue is full).
   */
  invoke(request: InvokeRequest): Promise<InvokeOutcome>;
}
