// What the invoke core tells an observer (the controller's metrics, common/metrics.ts). Every call
// is synchronous and cheap: counters only, no I/O, no allocation the caller has to make.
import type { Action, Activation } from '../../common/types';

/** How a cold start got its container: a pre-warmed stem cell, or a container made for the action. */
export type ColdStartKind = 'stem-cell' | 'new-container';

/** Why an activation was refused before it started (nothing was recorded). */
export type RefusalReason = 'queue-full' | 'overloaded';

export interface InvokeObserver {
  /** A container got this activation's /init. */
  coldStart(kind: ColdStartKind): void;
  refused(reason: RefusalReason): void;
  /** An activation ended (any status); `activation` is its record, with its timing annotations. */
  completed(action: Action, activation: Activation): void;
}

export const NO_OBSERVER: InvokeObserver = { coldStart() {}, refused() {}, completed() {} };
