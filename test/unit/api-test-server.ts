// Route tests run the app on 127.0.0.1:0 and call it with undici. (`app.inject()` cannot load
// under Jest on Node 20: light-my-request needs the ESM-only `cookie` 2.)
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { GUEST_API_KEY } from '../../api/api-keys';
import { ActivationWriter } from '../../api/activation-writer';
import { buildApp } from '../../api/app';
import { Authenticator } from '../../api/authenticator';
import { activationRecord } from '../../api/invoke/activation-record';
import { response } from '../../api/invoke/classify';
import type { Admission, InvokeRequest, Invoker, Ran } from '../../api/invoke/invoker';
import type { GustConfig } from '../../common/config';
import { loadConfig } from '../../common/config';
import type { Activation, ActivationStatus } from '../../common/types';
import { openSqliteDatabase } from '../../store/sqlite/open-database';
import { SqliteActivationStore } from '../../store/sqlite/sqlite-activation-store';
import { SqliteEntityStore } from '../../store/sqlite/sqlite-entity-store';

export interface TestResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

export interface TestCall {
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD';
  url: string;
  /** An object is sent as JSON; a string as is. */
  payload?: unknown;
  headers?: Record<string, string>;
}

export interface TestServer {
  origin: string;
  call(call: TestCall): Promise<TestResponse>;
  close(): Promise<void>;
}

export async function listenForTest(
  app: FastifyInstance,
  defaultHeaders: Record<string, string> = {},
): Promise<TestServer> {
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    origin,
    async call({ method = 'GET', url, payload, headers = {} }) {
      const allHeaders: Record<string, string> = { ...defaultHeaders, ...headers };
      let body: string | undefined;
      if (typeof payload === 'string') body = payload;
      else if (payload !== undefined) {
        body = JSON.stringify(payload);
        allHeaders['content-type'] ??= 'application/json';
      }
      const response = await request(`${origin}${url}`, { method, headers: allHeaders, body });
      const text = await response.body.text();
      return {
        statusCode: response.statusCode,
        headers: response.headers,
        body: text,
        json: <T>() => JSON.parse(text) as T,
      };
    },
    close: () => app.close(),
  };
}

// ---- A whole controller app over in-memory SQLite, with a scripted Invoker -------------------

export const basicAuth = (apiKey: string): string => `Basic ${Buffer.from(apiKey).toString('base64')}`;
export const GUEST_AUTH = basicAuth(GUEST_API_KEY);

/** A completed record as the invoker makes it (the one record builder). */
export function completedRecord(
  request: InvokeRequest,
  status: ActivationStatus,
  result: unknown,
): Activation {
  const start = Date.now();
  return activationRecord(request, response(status, result), {
    start,
    end: start + 1,
    waitTime: 1,
    timeout: false,
  });
}

/**
 * Waits, a turn of the event loop at a time (no clock), until `condition` holds: for what a real
 * server does in the background (a request received, a record handed to the writer).
 */
export async function until(condition: () => boolean, turns = 100_000): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn >= turns) throw new Error(`the condition did not hold within ${turns} turns of the event loop`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Behaviour by action name: `app-error`, `dev-error`, `whisk-error`, `array`, `held` (runs until
 * `release()`), `crash` (breaks the invoker's promise never to reject); otherwise success with `{ params }` as result and one log line. (A full queue is tested
 * over the real invoker: api-invoke-core.test.ts.)
 */
export class ScriptedInvoker implements Invoker {
  readonly requests: InvokeRequest[] = [];
  /** Runs not yet settled. */
  running = 0;
  #held: Array<() => void> = [];
  invoke(request: InvokeRequest): Admission {
    this.requests.push(request);
    this.running += 1;
    const ran = this.#run(request);
    void ran.finally(() => (this.running -= 1)).catch(() => undefined);
    return { kind: 'admitted', ran };
  }

  /** Lets every `held` run finish. */
  release(): void {
    for (const resolve of this.#held.splice(0)) resolve();
  }

  async #run(request: InvokeRequest): Promise<Ran> {
    const logs = Promise.resolve([`2024-01-01T00:00:00.000000000Z stdout: ran ${request.action.name}`]);
    switch (request.action.name) {
      case 'app-error':
        return { activation: completedRecord(request, 'application error', { error: 'app' }), logs };
      case 'dev-error':
        return { activation: completedRecord(request, 'action developer error', { error: 'dev' }), logs };
      case 'whisk-error':
        return { activation: completedRecord(request, 'whisk internal error', { error: 'whisk' }), logs };
      case 'array':
        return { activation: completedRecord(request, 'success', [1, 2, 3]), logs };
      case 'held':
        await new Promise<void>((resolve) => this.#held.push(resolve));
        return { activation: completedRecord(request, 'success', { held: true }), logs };
      case 'crash':
        throw new Error('boom');
      default:
        return { activation: completedRecord(request, 'success', { params: request.params }), logs };
    }
  }
}

export interface TestApp {
  server: TestServer;
  config: GustConfig;
  writer: ActivationWriter;
  entities: SqliteEntityStore;
  activations: SqliteActivationStore;
  auth: Authenticator;
  invoker: Invoker;
  close(): Promise<void>;
}

export async function startTestApp(
  controller: Partial<GustConfig['controller']> = {},
  options: { invoker?: Invoker; writerHighWaterMark?: number } = {},
): Promise<TestApp> {
  const base = loadConfig();
  const config: GustConfig = { ...base, controller: { ...base.controller, ...controller } };
  const db = openSqliteDatabase(':memory:');
  const entities = new SqliteEntityStore(db);
  const activations = new SqliteActivationStore(db, { ttlSeconds: 3600 });
  const writer = new ActivationWriter(activations, { highWaterMark: options.writerHighWaterMark });
  const auth = new Authenticator(entities);
  const invoker = options.invoker ?? new ScriptedInvoker();
  const app = buildApp({ config, entities, activations, writer, invoker, auth });
  const server = await listenForTest(app, { authorization: GUEST_AUTH });
  return {
    server,
    config,
    writer,
    entities,
    activations,
    auth,
    invoker,
    close: async () => {
      await server.close();
      await writer.close();
      db.close();
    },
  };
}
