// Activation stores for the durability figure: one whose putBatch does nothing (records
// discarded), and a switch in front of the real store so one controller, on the same warm
// containers, can be measured both ways in the same run.
import type { Activation } from '../../common/types';
import type { ActivationQuery, ActivationStore } from '../../store/activation-store';

export class DiscardActivationStore implements ActivationStore {
  discarded = 0;
  async putBatch(records: readonly Activation[]): Promise<void> {
    this.discarded += records.length;
  }
  async get(): Promise<Activation | undefined> {
    return undefined;
  }
  async list(): Promise<Activation[]> {
    return [];
  }
  async count(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

/** Delegates to `inner` (the configured store), or to a DiscardActivationStore while `discard` is set. */
export class SwitchableActivationStore implements ActivationStore {
  inner: ActivationStore | undefined;
  readonly discarding = new DiscardActivationStore();
  discard = false;

  #target(): ActivationStore {
    if (this.discard) return this.discarding;
    if (!this.inner) throw new Error('SwitchableActivationStore: no store behind the switch');
    return this.inner;
  }
  putBatch(records: readonly Activation[]): Promise<void> {
    return this.#target().putBatch(records);
  }
  get(namespace: string, activationId: string): Promise<Activation | undefined> {
    return this.#target().get(namespace, activationId);
  }
  list(namespace: string, query: ActivationQuery): Promise<Activation[]> {
    return this.#target().list(namespace, query);
  }
  count(namespace: string, query: Omit<ActivationQuery, 'skip' | 'limit'>): Promise<number> {
    return this.#target().count(namespace, query);
  }
  close(): Promise<void> {
    return this.inner?.close() ?? Promise.resolve();
  }
}
