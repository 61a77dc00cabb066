// Per-namespace invoke throttles (OpenWhisk Entitlement.scala, RateThrottler.scala,
// ActivationThrottler.scala; docs/reference/openwhisk-contract.md §3.7): a per-wall-clock-minute
// counter that counts every check, rejected ones included, and a count of activations in flight.
import { apiError } from './errors';

export interface ThrottleLimits {
  invocationsPerMinute: number;
  concurrentInvocations: number;
}

interface NamespaceCounters {
  minute: number;
  requests: number;
  inFlight: number;
}

export class NamespaceThrottles {
  readonly #limits: ThrottleLimits;
  readonly #now: () => number;
  readonly #counters = new Map<string, NamespaceCounters>();

  constructor(limits: ThrottleLimits, options: { now?: () => number } = {}) {
    if (!(limits.invocationsPerMinute > 0) || !(limits.concurrentInvocations > 0)) {
      throw new Error('throttle limits must be > 0');
    }
    this.#limits = limits;
    this.#now = options.now ?? Date.now;
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
    if (counters.requests > this.#limits.invocationsPerMinute) {
      throw apiError('GUST_ERR_THROTTLE_RATE', counters.requests, this.#limits.invocationsPerMinute);
    }
    if (counters.inFlight >= this.#limits.concurrentInvocations) {
      throw apiError('GUST_ERR_THROTTLE_CONCURRENT', counters.inFlight, this.#limits.concurrentInvocations);
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
