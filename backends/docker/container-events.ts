// Docker's /events stream for Gust's containers, turned into ContainerEvents. Connected only while
// someone listens; reconnects from the last event seen, so an exit or OOM is not lost (it may be
// delivered twice after a reconnect: listeners must be idempotent).
import { LABEL_PREFIX, LABELS } from '../../common/names';
import type { ContainerEvent } from '../backend';
import type { DockerApi, DockerEvent } from './api';

const RECONNECT_MS = 1000;

export class ContainerEvents {
  readonly #api: DockerApi;
  readonly #listeners = new Set<(event: ContainerEvent) => void>();
  #abort: AbortController | undefined = undefined;
  #since: string | undefined = undefined;

  constructor(api: DockerApi) {
    this.#api = api;
  }

  subscribe(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    if (this.#abort === undefined) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  #start(): void {
    const abort = new AbortController();
    this.#abort = abort;
    // Without `since` the stream starts now; after a reconnect it resumes where it broke.
    this.#since ??= String(Date.now() / 1000);
    const run = async (): Promise<void> => {
      while (!abort.signal.aborted) {
        try {
          await this.#follow(abort.signal);
        } catch {
          // the stream broke (dockerd restarted?): retry below
        }
        if (!abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    };
    void run();
  }

  async #follow(signal: AbortSignal): Promise<void> {
    const filters = { type: ['container'], event: ['die', 'oom'], label: [`${LABELS.managed}=true`] };
    const stream = await this.#api.followEvents(filters, this.#since, signal);
    stream.setEncoding('utf8');
    let buffered = '';
    for await (const text of stream as AsyncIterable<string>) {
      buffered += text;
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') this.#dispatch(JSON.parse(line) as DockerEvent);
      }
    }
  }

  #dispatch(event: DockerEvent): void {
    // Resume from this event: `since` takes seconds with a fraction (timeNano is past double precision).
    this.#since = (event.timeNano / 1e9).toFixed(6);
    // Attributes hold the container's name and every label next to event fields (exitCode, image).
    const { ID: containerId, Attributes: attributes } = event.Actor;
    const labels = Object.fromEntries(
      Object.entries(attributes).filter(([key]) => key.startsWith(LABEL_PREFIX)),
    );
    const about = { containerId, labels, ...(attributes.name ? { name: attributes.name } : {}) };
    let out: ContainerEvent | undefined;
    if (event.Action === 'oom') out = { type: 'oom', ...about };
    else if (event.Action === 'die') {
      out = { type: 'exit', exitCode: Number(attributes.exitCode ?? -1), ...about };
    }
    if (out) for (const listener of this.#listeners) listener(out);
  }
}
