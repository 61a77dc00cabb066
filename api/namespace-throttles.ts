// Per-namespace invoke throttles (OpenWhisk Entitlement.scala, RateThrottler.scala,
// ActivationThrottler.scala; docs/reference/openwhisk-contract.md §3.7): a per-wall-clock-minute
// counter that counts every check, rejected ones included, and a count of activations in flight.
// The counts are this process's own, so the limits are namespace-wide ones shared out among the
// live controllers (audit L2; upstream OpenWhisk's Entitlement.scala divides them by its cluster
// size too): workers/live-controllers.ts tells how many.
import { apiError } from './errors';

export interface ThrottleLimits {
  invocationsPerMinute: number;
  concurrentInvocations: number;
}

/**
 * One controller's share of a namespace-wide limit: rounded up, so the namespace never gets less
 * than its limit (at most `controllers - 1` more), and never below 1, so every controller serves.
 */
export function perControllerLimit(limit: number, controllers: number): number {
  return Math.max(1, Math.ceil(limit / Math.max(1, Math.floor(controllers))));
}

interface NamespaceCounters {
  minute: number;
  requests: number;
  inFlight: number;
}

export class NamespaceThrottles {
  /** The namespace-wide limits as configured. */
  readonly #limits: ThrottleLimits;
  /** This controller's share of them (what `admit` enforces). */
  #share: ThrottleLimits;
  #controllers = 1;
  readonly #now: () => number;
  readonly #counters = new Map<string, NamespaceCounters>();

  constructor(limits: ThrottleLimits, options: { now?: () => number } = {}) {
    if (!(limits.invocationsPerMinute > 0) || !(limits.concurrentInvocations > 0)) {
      throw new Error('throttle limits must be > 0');
    }
    this.#limits = limits;
    this.#share = { ...limits };
    this.#now = options.now ?? Date.now;
  }

  /** The live controllers the limits are shared among (1 until told otherwise). */
  get controllers(): number {
    return this.#controllers;
  }

  /** Off the hot path (a periodic refresh): what `admit` enforces from now on. */
  shareAmong(controllers: number): void {
    const count = Number.isFinite(controllers) ? Math.max(1, Math.floor(controllers)) : 1;
    if (count === this.#controllers) return;
    this.#controllers = count;
    this.#share = {
      invocationsPerMinute: perControllerLimit(this.#limits.invocationsPerMinute, count),
      concurrentInvocations: perControllerLimit(this.#limits.concurrentInvocations, count),
    };
  }

  /** Counts one request; throws OpenWhisk's 429 when the namespace is over either limit. */
  admit(namespace: string): void {
    const counters = this.#countersOf(namespace);
    const minute = Math.floor(this.#now() / 60_000);
    if (counters.minute !== minute) {
      counters.minute = minute;
      counters.requests = 0;
    }
    counters.requests += 1;
    const limits = this.#share;
    if (counters.requests > limits.invocationsPerMinute) {
      throw apiError('GUST_ERR_THROTTLE_RATE', counters.requests, limits.invocationsPerMinute);
    }
    if (counters.inFlight >= limits.concurrentInvocations) {
      throw apiError('GUST_ERR_THROTTLE_CONCURRENT', counters.inFlight, limits.concurrentInvocations);
    }
  }

  started(namespace: string): void {
    this.#countersOf(namespace).inFlight += 1;
  }

  finished(namespace: string): void {
    const counters = this.#countersOf(namespace);
    counters.inFlight = Math.max(0, counters.inFlight - 1);
  }

  inFlight(namespace: string): number {
    return this.#counters.get(namespace)?.inFlight ?? 0;
  }

  #countersOf(namespace: string): NamespaceCounters {
    let counters = this.#counters.get(namespace);
    if (!counters) {
      counters = { minute: 0, requests: 0, inFlight: 0 };
      this.#counters.set(namespace, counters);
    }
    return counters;
  }
}
