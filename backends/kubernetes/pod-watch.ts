// A cache of the pods matching a label selector, kept by list + watch: the watch resumes from the
// last resourceVersion it saw after any break (an apiserver restart, a closed connection), and
// lists again when that version has been compacted away (410 Gone). Listeners see every change;
// after a relist a pod that disappeared meanwhile is reported deleted.
import { Watch, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

export type PodChange = 'added' | 'modified' | 'deleted';
type Listener = (change: PodChange, pod: V1Pod) => void;

const RETRY_MS = 1000;

function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

export class PodWatch {
  readonly #config: KubeConfig;
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #selector: string;
  readonly #pods = new Map<string, V1Pod>();
  readonly #listeners = new Set<Listener>();
  #resourceVersion = '';
  #abort: AbortController | undefined = undefined;
  #stopped = false;
  #started: Promise<void> | undefined = undefined;
  /** Watches (re)opened and full lists taken; tests read them to see a watch resume. */
  readonly stats = { watches: 0, lists: 0, gone: 0 };

  constructor(options: { config: KubeConfig; api: CoreV1Api; namespace: string; labelSelector: string }) {
    this.#config = options.config;
    this.#api = options.api;
    this.#namespace = options.namespace;
    this.#selector = options.labelSelector;
  }

  /** Resolves after the first list (rejects if it fails); the watch then runs until stop(). */
  start(): Promise<void> {
    this.#started ??= this.#list().then(() => {
      void this.#loop();
    });
    return this.#started;
  }

  get(name: string): V1Pod | undefined {
    return this.#pods.get(name);
  }

  pods(): V1Pod[] {
    return [...this.#pods.values()];
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves with `test(pod)` once it returns something other than undefined (asked now and on
   * every change of that pod; `pod` is undefined while it does not exist). Rejects on timeout or abort.
   */
  waitFor<T>(
    name: string,
    test: (pod: V1Pod | undefined) => T | undefined,
    options: { timeoutMs: number; signal?: AbortSignal; onTimeout: () => Error },
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const evaluate = (pod: V1Pod | undefined): void => {
        try {
          const result = test(pod);
          if (result !== undefined) finish(() => resolve(result));
        } catch (err) {
          finish(() => reject(err as Error));
        }
      };
      const onAbort = (): void => finish(() => reject(options.signal!.reason as Error));
      const timer = setTimeout(() => finish(() => reject(options.onTimeout())), options.timeoutMs);
      const unsubscribe = this.onChange((change, pod) => {
        if (pod.metadata?.name === name) evaluate(change === 'deleted' ? undefined : pod);
      });
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      evaluate(this.#pods.get(name));
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  #emit(change: PodChange, pod: V1Pod): void {
    for (const listener of this.#listeners) listener(change, pod);
  }

  #apply(change: PodChange, pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (name === undefined) return;
    if (change === 'deleted') this.#pods.delete(name);
    else this.#pods.set(name, pod);
    this.#emit(change, pod);
  }

  async #list(): Promise<void> {
    const list = await this.#api.listNamespacedPod({
      namespace: this.#namespace,
      labelSelector: this.#selector,
    });
    this.stats.lists++;
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata!.name!;
      seen.add(name);
      const known = this.#pods.get(name);
      if (known?.metadata?.resourceVersion !== pod.metadata?.resourceVersion)
        this.#apply(known ? 'modified' : 'added', pod);
    }
    for (const [name, pod] of this.#pods) if (!seen.has(name)) this.#apply('deleted', pod);
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#resourceVersion === '') await this.#list();
        await this.#watchOnce();
      } catch (err) {
        if (statusOf(err) === 410) {
          this.stats.gone++;
          this.#resourceVersion = '';
          continue;
        }
        if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** One watch connection from the last resourceVersion; resolves when it closes cleanly. */
  async #watchOnce(): Promise<void> {
    this.stats.watches++;
    await new Promise<void>((resolve, reject) => {
      const path = `/api/v1/namespaces/${this.#namespace}/pods`;
      const query = {
        resourceVersion: this.#resourceVersion,
        labelSelector: this.#selector,
        allowWatchBookmarks: true,
      };
      const onEvent = (type: string, object: unknown): void => {
        if (type === 'ERROR') {
          // A 410 here means our version was compacted: list again.
          if ((object as { code?: number }).code === 410) this.#resourceVersion = '';
          return;
        }
        const pod = object as V1Pod;
        const version = pod.metadata?.resourceVersion;
        if (type === 'ADDED') this.#apply('added', pod);
        else if (type === 'MODIFIED') this.#apply('modified', pod);
        else if (type === 'DELETED') this.#apply('deleted', pod);
        if (version) this.#resourceVersion = version;
      };
      const onDone = (err: unknown): void => {
        this.#abort = undefined;
        if (err && !this.#stopped) reject(err as Error);
        else resolve();
      };
      new Watch(this.#config).watch(path, query, onEvent, onDone).then(
        (controller) => {
          this.#abort = controller;
          if (this.#stopped) controller.abort();
        },
        (err) => onDone(err),
      );
    });
  }
}
