// The controller's side of OpenWhisk's action protocol (docs/reference/openwhisk-contract.md
// §6.2–6.4): POST /init and /run to any runtime container (ours, OpenWhisk's images, blackbox),
// over one keep-alive undici Pool per container origin. This is the hot path: no validation per
// call, no classification; the caller turns the outcome into an activation response.
//
// An address is an http URL, or `unix:<socket>` for the docker and process backends' runtimes,
// which need their per-container secret on every call (runtime-address.ts). Runtimes at an http
// URL get theirs from `secrets` (the kubernetes backend: from the pod; a Docker host's agent
// endpoint: derived, backends/host-routes.ts). An http URL's path is the prefix of /init and /run
// (an agent endpoint's `/containers/<name>`).
import { readFile } from 'node:fs/promises';
import { Pool, type Dispatcher } from 'undici';
import { MAX_RESULT_BYTES } from '../common/whisk-messages';
import { POD_HEADER } from './nodejs/src/init-on-start';
import { SECRET_HEADER } from './nodejs/src/runtime-secret';
import { secretFileOf, socketPathOf } from './runtime-address';

/** Body of POST /init (docs/reference/openwhisk-contract.md §6.2). */
export interface InitPayload {
  value: {
    name: string;
    main: string;
    code?: string;
    binary: boolean;
    env?: Record<string, string>;
  };
}

/**
 * Body of POST /run (docs/reference/openwhisk-contract.md §6.3). Context fields are strings,
 * `deadline` included.
 */
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
/**
 * A call through a gateway that routes by `host` (the knative backend), carrying the secret of the
 * runtimes behind that host, which one gateway address cannot look up by itself.
 */
export interface GatewayCall {
  host?: string;
  secret?: string;
}

/** The runtime refused the secret sent: the address may now be another container's. */
const UNAUTHORIZED = 401;

interface Target {
  pool: Pool;
  headers: Record<string, string>;
  /** The address's path, before /init and /run ('' for a runtime at the root). */
  prefix: string;
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
    options: GatewayCall = {},
  ): Promise<RuntimeCallResult> {
    return this.#post(address, '/run', JSON.stringify(payload), timeoutMs, options);
  }

  /**
   * Readies the pool of a container before its first call (as it is leased): its secret is read
   * now, not on the cold start's critical path. Never throws (it runs in the router's lease
   * listener): an address it cannot use fails on the first call instead, as before.
   */
  prepare(address: string): void {
    try {
      void this.#target(address);
    } catch {
      // the first call reports it
    }
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
      const url = socketPath === undefined ? new URL(address) : undefined;
      const prefix = url === undefined ? '' : url.pathname.replace(/\/+$/, '');
      const pool =
        url === undefined
          ? new Pool('http://localhost', { ...options, socketPath })
          : new Pool(url.origin, options);
      if (lookup === undefined) {
        target = { pool, headers: HEADERS, prefix };
      } else {
        // No secret found (the container is gone) sends none: the call fails as it should.
        target = lookup().then(
          (secret) => ({
            pool,
            headers: secret ? { ...HEADERS, [SECRET_HEADER]: secret } : HEADERS,
            prefix,
          }),
          () => ({ pool, headers: HEADERS, prefix }),
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

  async #post(
    address: string,
    path: string,
    body: string,
    timeoutMs: number,
    { host, secret }: GatewayCall = {},
  ): Promise<RuntimeCallResult> {
    if (timeoutMs <= 0) return { outcome: 'timeout', timeoutMs };
    // No await once the secret is known (`in`, not instanceof: promises may come from another realm).
    const pending = this.#target(address);
    const target = 'pool' in pending ? pending : await pending;
    const headers =
      host === undefined && secret === undefined
        ? target.headers
        : {
            ...target.headers,
            ...(host !== undefined ? { host } : {}),
            ...(secret !== undefined ? { [SECRET_HEADER]: secret } : {}),
          };
    const result = await this.#dispatch(target.pool, target.prefix + path, headers, body, timeoutMs);
    if (result.outcome === 'response' && result.status === UNAUTHORIZED) this.#forget(address, target);
    return result;
  }

  /**
   * One call through undici's dispatch API: no response stream, no parsed header object, no
   * AbortSignal, which request() builds per call (measured: 44–58 → 25–33 µs of CPU per call). A
   * native timer per call bounds it (undici's own timeouts run on a coarse clock, up to ~0.5 s
   * late), cleared when the reply ends. Bodies beyond maxResponseBytes are counted, not kept.
   */
  #dispatch(
    pool: Pool,
    path: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<RuntimeCallResult> {
    const max = this.#maxResponseBytes;
    return new Promise((resolve) => {
      let abort: ((reason: Error) => void) | undefined;
      let timedOut = false;
      let status = 0;
      let pod: string | undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      let size = 0;
      const timer = setTimeout(() => {
        timedOut = true;
        // The connection is unusable after an abort; the pool drops it, and the caller the container.
        if (abort) abort(new Error(`no reply within ${timeoutMs} ms`));
        else resolve({ outcome: 'timeout', timeoutMs }); // still queued: aborted once it connects
      }, timeoutMs);
      const handler: Dispatcher.DispatchHandler = {
        onConnect(abortCall) {
          abort = abortCall;
          if (timedOut) abortCall(new Error(`no reply within ${timeoutMs} ms`));
        },
        onHeaders(statusCode, rawHeaders) {
          status = statusCode;
          pod = headerValue(rawHeaders, POD_HEADER);
          return true;
        },
        onData(chunk) {
          size += chunk.length;
          if (kept < max) {
            const part = kept + chunk.length <= max ? chunk : chunk.subarray(0, max - kept);
            chunks.push(part);
            kept += part.length;
          }
          return true;
        },
        onComplete() {
          clearTimeout(timer);
          const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept)).toString('utf8');
          resolve(
            pod === undefined
              ? { outcome: 'response', status, text, size }
              : { outcome: 'response', status, text, size, pod },
          );
        },
        onError(error) {
          clearTimeout(timer);
          if (timedOut) resolve({ outcome: 'timeout', timeoutMs });
          else {
            const { code, message } = error as { code?: string; message?: string };
            resolve({
              outcome: 'connection-error',
              code: code ?? 'UNKNOWN',
              message: message ?? String(error),
            });
          }
        },
      };
      pool.dispatch({ method: 'POST', path, headers, body }, handler);
    });
  }
}

/** A header's value from undici's raw [name, value, ...] list (names in any case). */
function headerValue(raw: Buffer[] | string[] | null, name: string): string | undefined {
  if (!raw) return undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toString().toLowerCase() === name) return raw[i + 1]!.toString();
  }
  return undefined;
}
