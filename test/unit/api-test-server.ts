// Route tests run the app on 127.0.0.1:0 and call it with undici. (`app.inject()` cannot load
// under Jest on Node 20: light-my-request needs the ESM-only `cookie` 2.)
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';

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

export async function listenForTest(app: FastifyInstance, defaultHeaders: Record<string, string> = {}): Promise<TestServer> {
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
