// The controller's side of OpenWhisk's action protocol (contract §6.2–6.4): POST /init and /run to
// any runtime container (ours, OpenWhisk's images, blackbox), over one keep-alive undici Pool per
// container origin. This is the hot path: no validation per call, no classification; the caller
// turns the outcome into an activation response.
//
// An address is an http URL, or `unix:<socket>` for the docker and process backends' runtimes,
// which need their per-container secret on every call (runtime-address.ts). Runtimes at an http
// URL get theirs from `secrets` (the kubernetes backend: from the pod).
import { readFile } from 'node:fs/promises';
import { Pool } from 'undici';
import { MAX_RESULT_BYTES } from '../common/whisk-messages';
import { POD_HEADER } from './nodejs/src/init-on-start';
import { SECRET_HEADER } from './nodejs/src/runtime-secret';
import { secretFileOf, socketPathOf } from './runtime-address';

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
 *   and only its first part was kept. `pod`: the pod that answered, when the runtime names itself
 *   (POD_HEADER: Knative pods, whose gateway hides which one served).
 * - `timeout`: the caller's limit passed and the request was aborted; the container is unusable.
 * - `connection-error`: the connection failed or died (the process exited, was OOM-killed, …).
 */
export type RuntimeCallResult =
  | { outcome: 'response'; status: number; text: string; size: number; pod?: string }
  | { outcome: 'timeout'; timeoutMs: number }
  | { outcome: 'connection-error'; code: string; message: string };

export interface RuntimeClientOptions {
  /** Response bodies above this are cut (the invoker's limit). @default MAX_RESULT_BYTES (1 MiB) */
  maxResponseBytes?: number;
  /** /init is retried this often while the connection is refused (the runtime may still be booting). @default 50 */
  initRetryMs?: number;
  /** Where the secrets of runtimes at http URLs come from (a ContainerBackend that keeps them). */
  secrets?: RuntimeSecrets;
}

export interface RuntimeSecrets {
  runtimeSecret?(address: string): Promise<string | undefined>;
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json' } as const;
const RETRYABLE_INIT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH']);
/** The runtime refused the secret sent: the address may now be another container's. */
const UNAUTHORIZED = 401;

interface Body {
  text(): Promise<string>;
  [Symbol.asyncIterator](): AsyncIterator<Buffer>;
  destroy(): unknown;
}

interface Target {
  pool: Pool;
  headers: Record<string, string>;
}

export class RuntimeClient {
  readonly #targets = new Map<string, Target | Promise<Target>>();
  readonly #maxResponseBytes: number;
  readonly #initRetryMs: number;
  readonly #secrets: RuntimeSecrets | undefined;

  constructor(options: RuntimeClientOptions = {}) {
    this.#secrets = options.secrets;
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
  run(
    address: string,
    payload: RunPayload,
    timeoutMs: number,
    options: { host?: string } = {},
  ): Promise<RuntimeCallResult> {
    return this.#post(address, '/run', JSON.stringify(payload), timeoutMs, options.host);
  }

  /** Closes the pool of one container (after it is destroyed or revoked). */
  async close(address: string): Promise<void> {
    const target = this.#targets.get(address);
    if (target === undefined) return;
    this.#targets.delete(address);
    await (await target).pool.destroy();
  }

  async closeAll(): Promise<void> {
    const targets = [...this.#targets.values()];
    this.#targets.clear();
    await Promise.all(targets.map(async (target) => (await target).pool.destroy()));
  }

  /** The pool and headers of one container; its secret is looked up once, on first use. */
  #target(address: string): Target | Promise<Target> {
    let target = this.#targets.get(address);
    if (target === undefined) {
      const socketPath = socketPathOf(address);
      const options = { pipelining: 1, keepAliveTimeout: 60_000 };
      const secrets = this.#secrets;
      const lookup =
        socketPath !== undefined
          ? () => readFile(secretFileOf(socketPath), 'utf8')
          : secrets?.runtimeSecret && (() => secrets.runtimeSecret!(address));
      const pool =
        socketPath === undefined
          ? new Pool(address, options)
          : new Pool('http://localhost', { ...options, socketPath });
      if (lookup === undefined) {
        target = { pool, headers: HEADERS };
      } else {
        // No secret found (the container is gone) sends none: the call fails as it should.
        target = lookup().then(
          (secret) => ({ pool, headers: secret ? { ...HEADERS, [SECRET_HEADER]: secret } : HEADERS }),
          () => ({ pool, headers: HEADERS }),
        );
        target.then(
          (resolved) => {
            if (this.#targets.get(address) === target) this.#targets.set(address, resolved);
          },
          () => undefined,
        );
      }
      this.#targets.set(address, target);
    }
    return target;
  }

  /** Drops a target whose secret was refused, so the next call looks it up again. */
  #forget(address: string, target: Target): void {
    if (this.#targets.get(address) !== target) return;
    this.#targets.delete(address);
    void target.pool.close().catch(() => undefined);
  }

  /** `host`: the Host header, for a gateway that routes by it (the knative backend). */
  async #post(
    address: string,
    path: string,
    body: string,
    timeoutMs: number,
    host?: string,
  ): Promise<RuntimeCallResult> {
    if (timeoutMs <= 0) return { outcome: 'timeout', timeoutMs };
    // A native timer per call (undici's own header/body timeouts run on a coarse clock, up to
    // ~0.5 s late, too loose for an action's time limit), cleared as soon as the reply is read:
    // AbortSignal.timeout's timer would outlive the call and its signal (a WeakRef and a
    // FinalizationRegistry entry) would survive to the next full GC.
    const abort = new AbortController();
    const { signal } = abort;
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const target = await this.#target(address);
      const headers = host === undefined ? target.headers : { ...target.headers, host };
      const response = await target.pool.request({ method: 'POST', path, headers, body, signal });
      if (response.statusCode === UNAUTHORIZED) this.#forget(address, target);
      const length = Number(response.headers['content-length'] ?? NaN);
      const { text, size } = await this.#readBody(response.body, length);
      const pod = response.headers[POD_HEADER];
      return typeof pod === 'string'
        ? { outcome: 'response', status: response.statusCode, text, size, pod }
        : { outcome: 'response', status: response.statusCode, text, size };
    } catch (error) {
      // The connection is unusable after an abort; the pool drops it, and the caller the container.
      if (signal.aborted) return { outcome: 'timeout', timeoutMs };
      const { code, message } = error as { code?: string; message?: string };
      return { outcome: 'connection-error', code: code ?? 'UNKNOWN', message: message ?? String(error) };
    } finally {
      clearTimeout(timer);
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
