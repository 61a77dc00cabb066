// The controller's side of OpenWhisk's action protocol (contract §6.2–6.4): POST /init and /run to
// any runtime container (ours, OpenWhisk's images, blackbox), over one keep-alive undici Pool per
// container origin. This is the hot path: no validation per call, no classification; the caller
// turns the outcome into an activation response.
import { Pool } from 'undici';
import { MAX_RESULT_BYTES } from '../common/whisk-messages';

/** Body of POST /init (contract §6.2). */
export interface InitPayload {
  value: {
    name: string;
    main: string;
    code?: string;
    binary: boolean;
    env?: Record<string, string>;
  };
}

/** Body of POST /run (contract §6.3). Context fields are strings, `deadline` included. */
export interface RunPayload {
  value: unknown;
  namespace: string;
  action_name: string;
  action_version?: string;
  activation_id: string;
  transaction_id?: string;
  deadline: string;
  api_key?: string;
}

/**
 * What a call produced. Transport failures are values, not exceptions (OpenWhisk's `RunResult`):
 * - `response`: the container answered; `text` is its body, unparsed (the classifier parses it once);
 *   `size` is the body's length in bytes, which exceeds `text`'s when the body passed `maxResponseBytes`
 *   and only its first part was kept.
 * - `timeout`: the caller's limit passed and the request was aborted; the container is unusable.
 * - `connection-error`: the connection failed or died (the process exited, was OOM-killed, …).
 */
export type RuntimeCallResult =
  | { outcome: 'response'; status: number; text: string; size: number }
  | { outcome: 'timeout'; timeoutMs: number }
  | { outcome: 'connection-error'; code: string; message: string };

export interface RuntimeClientOptions {
  /** Response bodies above this are cut (the invoker's limit). @default MAX_RESULT_BYTES (1 MiB) */
  maxResponseBytes?: number;
  /** /init is retried this often while the connection is refused (the runtime may still be booting). @default 50 */
  initRetryMs?: number;
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json' } as const;
const RETRYABLE_INIT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH']);

interface Body {
  text(): Promise<string>;
  [Symbol.asyncIterator](): AsyncIterator<Buffer>;
  destroy(): unknown;
}

export class RuntimeClient {
  readonly #pools = new Map<string, Pool>();
  readonly #maxResponseBytes: number;
  readonly #initRetryMs: number;

  constructor(options: RuntimeClientOptions = {}) {
    this.#maxResponseBytes = options.maxResponseBytes ?? MAX_RESULT_BYTES;
    this.#initRetryMs = options.initRetryMs ?? 50;
    if (!(this.#maxResponseBytes > 0)) throw new Error('RuntimeClient: maxResponseBytes must be positive');
    if (!(this.#initRetryMs > 0)) throw new Error('RuntimeClient: initRetryMs must be positive');
  }

  /** POST /init. `address` is the container's base URL (`ContainerInfo.address`). Never rejects. */
  async init(address: string, payload: InitPayload, timeoutMs: number): Promise<RuntimeCallResult> {
    const deadline = Date.now() + timeoutMs;
    const body = JSON.stringify(payload);
    for (;;) {
      const result = await this.#post(address, '/init', body, deadline - Date.now());
      if (result.outcome !== 'connection-error' || !RETRYABLE_INIT_ERRORS.has(result.code)) return result;
      const wait = Math.min(this.#initRetryMs, deadline - Date.now());
      if (wait <= 0) return { outcome: 'timeout', timeoutMs };
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** POST /run. Never retried (the action may have side effects). Never rejects. */
  run(address: string, payload: RunPayload, timeoutMs: number): Promise<RuntimeCallResult> {
    return this.#post(address, '/run', JSON.stringify(payload), timeoutMs);
  }

  /** Closes the pool of one container (after it is destroyed or revoked). */
  async close(address: string): Promise<void> {
    const pool = this.#pools.get(address);
    if (pool === undefined) return;
    this.#pools.delete(address);
    await pool.destroy();
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }

  #pool(address: string): Pool {
    let pool = this.#pools.get(address);
    if (pool === undefined) {
      pool = new Pool(address, { pipelining: 1, keepAliveTimeout: 60_000 });
      this.#pools.set(address, pool);
    }
    return pool;
  }

  async #post(address: string, path: string, body: string, timeoutMs: number): Promise<RuntimeCallResult> {
    if (timeoutMs <= 0) return { outcome: 'timeout', timeoutMs };
    // A native timer per call: undici's own header/body timeouts run on a coarse clock (up to
    // ~0.5 s late), too loose for an action's time limit.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await this.#pool(address).request({
        method: 'POST',
        path,
        headers: HEADERS,
        body,
        signal,
      });
      const length = Number(response.headers['content-length'] ?? NaN);
      const { text, size } = await this.#readBody(response.body, length);
      return { outcome: 'response', status: response.statusCode, text, size };
    } catch (error) {
      // The connection is unusable after an abort; the pool drops it, and the caller the container.
      if (signal.aborted) return { outcome: 'timeout', timeoutMs };
      const { code, message } = error as { code?: string; message?: string };
      return { outcome: 'connection-error', code: code ?? 'UNKNOWN', message: message ?? String(error) };
    }
  }

  async #readBody(body: Body, length: number): Promise<{ text: string; size: number }> {
    if (length <= this.#maxResponseBytes) return { text: await body.text(), size: length };
    // Unknown or oversized length: read up to the limit, count the rest without keeping it.
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (kept < this.#maxResponseBytes) {
        const part = chunk.subarray(0, this.#maxResponseBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
    }
    return { text: Buffer.concat(chunks, kept).toString('utf8'), size };
  }
}
