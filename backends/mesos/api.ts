// A thin typed client of the Mesos v1 scheduler API (master) and of the agent's files API, over
// undici. No policy here: the subscription activity and the backend decide what a reply means.
// https://github.com/apache/mesos/blob/master/docs/scheduler-http-api.md
import { Pool, request } from 'undici';
import type { Readable } from 'node:stream';
import type { Call, Event, FrameworkInfo } from './protocol';
import { STREAM_ID_HEADER } from './protocol';
import { RecordIODecoder } from './recordio';

export class MesosApiError extends Error {
  readonly code = 'GUST_ERR_MESOS_API';
  readonly statusCode: number;

  constructor(operation: string, statusCode: number, message: string) {
    super(`mesos ${operation} failed (${statusCode}): ${message}`);
    this.name = 'MesosApiError';
    this.statusCode = statusCode;
  }
}

export interface Subscription {
  /** The `Mesos-Stream-Id` every later call of this subscription carries. */
  streamId: string;
  /** The event stream, decoded; ends when the master closes it, throws when it breaks. */
  events: AsyncIterable<Event>;
}

const SCHEDULER_PATH = '/api/v1/scheduler';

/** Calls wait at most this long for the master's answer (the API doc suggests 75 s; ours are local). */
const CALL_TIMEOUT_MS = 15_000;

export class MesosSchedulerApi {
  readonly #masterUrl: string;
  readonly #calls: Pool;

  constructor(masterUrl: string) {
    if (!/^https?:\/\/[^/]+$/.test(masterUrl))
      throw new Error(`MesosSchedulerApi: '${masterUrl}' is not a master URL`);
    this.#masterUrl = masterUrl;
    // Calls must not use the subscription's connection (scheduler-http-api.md): a pool of their own.
    this.#calls = new Pool(masterUrl, {
      connections: 4,
      headersTimeout: CALL_TIMEOUT_MS,
      bodyTimeout: CALL_TIMEOUT_MS,
    });
  }

  get masterUrl(): string {
    return this.#masterUrl;
  }

  /**
   * SUBSCRIBE: opens the event stream on a connection of its own. The first event is SUBSCRIBED.
   * `frameworkInfo.id` set re-subscribes an existing framework (after a disconnect or failover).
   */
  async subscribe(frameworkInfo: FrameworkInfo, signal: AbortSignal): Promise<Subscription> {
    const call: Call = {
      type: 'SUBSCRIBE',
      ...(frameworkInfo.id ? { framework_id: frameworkInfo.id } : {}),
      subscribe: { framework_info: frameworkInfo, force: true },
    };
    const response = await request(`${this.#masterUrl}${SCHEDULER_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(call),
      signal,
      headersTimeout: CALL_TIMEOUT_MS,
      // The stream is idle between heartbeats; the caller watches the heartbeats instead.
      bodyTimeout: 0,
    });
    if (response.statusCode !== 200) {
      throw new MesosApiError('subscribe', response.statusCode, (await response.body.text()).trim());
    }
    const streamId = response.headers[STREAM_ID_HEADER];
    if (typeof streamId !== 'string' || streamId === '') {
      response.body.destroy();
      throw new MesosApiError('subscribe', 200, 'the master sent no Mesos-Stream-Id header');
    }
    return { streamId, events: decodeEvents(response.body) };
  }

  /** Any call but SUBSCRIBE. The master answers 202 Accepted; anything else throws MesosApiError. */
  async call(streamId: string, call: Exclude<Call, { type: 'SUBSCRIBE' }>): Promise<void> {
    const response = await this.#calls.request({
      method: 'POST',
      path: SCHEDULER_PATH,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        [STREAM_ID_HEADER]: streamId,
      },
      body: JSON.stringify(call),
    });
    const text = await response.body.text();
    if (response.statusCode !== 202)
      throw new MesosApiError(call.type.toLowerCase(), response.statusCode, text.trim());
  }

  /** The master's `/health` endpoint: 200 when it serves. */
  async health(): Promise<void> {
    const response = await this.#calls.request({ method: 'GET', path: '/health' });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new MesosApiError('health', response.statusCode, text.trim());
  }

  async close(): Promise<void> {
    await this.#calls.close();
  }
}

async function* decodeEvents(body: Readable): AsyncIterable<Event> {
  const decoder = new RecordIODecoder();
  const text = new TextDecoder();
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      for (const record of decoder.push(chunk)) yield JSON.parse(text.decode(record)) as Event;
    }
  } finally {
    body.destroy();
  }
}

/** The parts of an agent's `GET /state` Gust reads: where each executor's sandbox is. */
export interface AgentState {
  id: string;
  hostname: string;
  frameworks: {
    id: string;
    executors: { id: string; directory: string; tasks: { id: string; state: string }[] }[];
  }[];
  completed_frameworks?: AgentState['frameworks'];
}

/** The agent's files API and state endpoint (each agent serves its own, e.g. `http://host:5051`). */
export const agentApi = {
  async state(agentUrl: string, signal?: AbortSignal): Promise<AgentState> {
    const response = await request(`${agentUrl}/state`, { signal, headersTimeout: CALL_TIMEOUT_MS });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new MesosApiError('agent state', response.statusCode, text.trim());
    return JSON.parse(text) as AgentState;
  },

  /** `GET /files/read`: up to `length` bytes of a sandbox file from `offset`; `offset: -1` asks for its size. */
  async readFile(
    agentUrl: string,
    path: string,
    offset: number,
    length: number,
    signal?: AbortSignal,
  ): Promise<{ data: string; offset: number } | null> {
    const query = new URLSearchParams({ path, offset: String(offset), length: String(length) });
    const response = await request(`${agentUrl}/files/read?${query.toString()}`, {
      signal,
      headersTimeout: CALL_TIMEOUT_MS,
    });
    const text = await response.body.text();
    if (response.statusCode === 404) return null;
    if (response.statusCode !== 200) throw new MesosApiError('files/read', response.statusCode, text.trim());
    return JSON.parse(text) as { data: string; offset: number };
  },
};
