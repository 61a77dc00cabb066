// The runtime's state machine for /init and /run, reply for reply as openwhisk-runtime-nodejs
// src/service.js (the tables in the docs/reference/openwhisk-contract.md §6.2 and §6.4), plus a
// result size limit.
//
// Rules:
// 1. One /init per process. A failed load leaves the runtime `stopped`: every later call gets 403.
// 2. Without `allowConcurrent`, a /run while another runs is refused (403), it is not queued.
// 3. A synchronous throw from main stops the runtime; a rejection is an `{error}` result.
// 4. Both sentinels are written after every /run and after a failed /init, never after a good one.
// Its console lines are the activation's log stream (OpenWhisk's protocol, read by the controller),
// not a process log: the runtime runs inside the container, without Gust's logger.
import { loadAction, type ActionMain } from './load-action';
import { serializeError } from './serialize-error';

export const ACTIVATION_LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

type Status = 'ready' | 'starting' | 'running' | 'stopped';

export interface Reply {
  status: number;
  /** Already serialized JSON. */
  body: string;
}

export interface ActionServiceOptions {
  /** Overlapping runs from the start; otherwise only when the /init env sets `__OW_ALLOW_CONCURRENT=true`. */
  allowConcurrent: boolean;
  /** Results larger than this (serialized, in bytes) are replaced by OpenWhisk's truncation error. */
  maxResultBytes: number;
}

const reply = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });
const errorReply = (status: number, error: string): Reply => reply(status, { error });

function writeSentinels(): void {
  console.log(ACTIVATION_LOG_SENTINEL);
  console.error(ACTIVATION_LOG_SENTINEL);
}

function describe(error: unknown): string {
  const stack = (error as { stack?: unknown } | null)?.stack;
  return stack ? String(stack) : String(error);
}

/** Env values are strings: objects become compact JSON, null and falsy values become "" (service.js `doInit`). */
function copyEnv(env: unknown): void {
  if (env === null || typeof env !== 'object') return;
  for (const [key, value] of Object.entries(env)) {
    process.env[key] =
      value !== null && typeof value === 'object' ? JSON.stringify(value) : value ? String(value) : '';
  }
}

export class ActionService {
  #status: Status = 'ready';
  #main: ActionMain | undefined = undefined;
  #allowConcurrent: boolean;
  /** A failed init-on-start: every /run answers it (there is no /init caller to tell). */
  #startFailure: Reply | undefined = undefined;
  readonly #options: ActionServiceOptions;

  constructor(options: ActionServiceOptions) {
    this.#options = options;
    this.#allowConcurrent = options.allowConcurrent;
  }

  #setStatus(status: Status): void {
    if (this.#status !== 'stopped') this.#status = status;
  }

  async init(body: unknown): Promise<Reply> {
    if (this.#main !== undefined) {
      console.error('Internal system error:', 'Cannot initialize the action more than once.');
      return errorReply(403, 'Cannot initialize the action more than once.');
    }
    if (this.#status !== 'ready') {
      console.error('Internal system error:', `System not ready, status is ${this.#status}.`);
      return errorReply(403, `System not ready, status is ${this.#status}.`);
    }
    this.#setStatus('starting');
    const message = ((body as { value?: unknown } | null)?.value ?? {}) as Record<string, unknown>;
    const { main, code } = message;
    if (!main || !code || typeof main !== 'string' || typeof code !== 'string') {
      this.#setStatus('ready');
      return errorReply(403, 'Missing main/no code to execute.');
    }
    try {
      copyEnv(message.env);
      // A stem cell learns its action's concurrency only now (Gust sends it for limits.concurrency > 1).
      if ((process.env.__OW_ALLOW_CONCURRENT ?? '').toLowerCase() === 'true') this.#allowConcurrent = true;
      this.#main = loadAction({ main, code, binary: message.binary === true });
      this.#setStatus('ready');
      return reply(200, { OK: true });
    } catch (error) {
      console.error('Error during initialization:', error);
      writeSentinels();
      this.#setStatus('stopped');
      return errorReply(502, `Initialization has failed due to: ${describe(error)}`);
    }
  }

  /**
   * Init-on-start (init-on-start.ts): initialises from the environment's message before the
   * server listens. When that fails, the runtime still serves, and every /run answers the
   * initialisation error as the /init would have (502), so the activation says why.
   */
  async initOnStart(message: unknown): Promise<Reply> {
    const reply =
      message instanceof Error
        ? errorReply(502, `Initialization has failed due to: ${describe(message)}`)
        : await this.init(message);
    if (reply.status !== 200) this.#startFailure = reply;
    return reply;
  }

  async run(body: unknown): Promise<Reply> {
    if (this.#startFailure !== undefined) {
      console.error('Initialization failed at start:', JSON.parse(this.#startFailure.body).error);
      writeSentinels();
      return this.#startFailure;
    }
    const main = this.#main;
    if (this.#status !== 'ready' || main === undefined) {
      const message = main ? `System not ready, status is ${this.#status}.` : 'System not initialized.';
      console.error('Internal system error:', message);
      return errorReply(403, message);
    }
    if (!this.#allowConcurrent) this.#setStatus('running');

    const message = (body ?? {}) as Record<string, unknown>;
    let params = message.value;
    if (params === null || params === undefined) {
      params = {};
    } else if (typeof params !== 'object') {
      const error = `Internal system error: the argument must be a dictionary but has type '${typeof params}'.`;
      console.error('Internal system error:', error);
      // service.js leaves the status `running` here; no invoker ever sends such a value.
      return errorReply(403, error);
    }
    // Every top-level string but `value` becomes __OW_<KEY> (activation id, deadline, api key, …).
    for (const key of Object.keys(message)) {
      const value = message[key];
      if (typeof value === 'string' && key !== 'value') process.env[`__OW_${key.toUpperCase()}`] = value;
    }

    let result: unknown;
    try {
      result = await this.#invoke(main, params as Record<string, unknown>);
    } catch (error) {
      console.error(error);
      writeSentinels();
      this.#setStatus('stopped');
      return errorReply(502, `An error has occurred: ${String(error)}`);
    }
    if (typeof result !== 'object') {
      console.error(`Result must be of type object but has type "${typeof result}":`, result);
    }
    writeSentinels();
    if (!this.#allowConcurrent) this.#setStatus('ready');
    if (typeof result !== 'object') return errorReply(502, 'The action did not return a dictionary.');
    let json: string;
    try {
      json = JSON.stringify(result);
    } catch (error) {
      return errorReply(502, `An error has occurred: ${String(error)}`);
    }
    return this.#limitResult(json);
  }

  /** Sync throw rejects; a rejected promise resolves to `{error}` (runner.js `finalizeResult`). */
  async #invoke(main: ActionMain, params: Record<string, unknown>): Promise<unknown> {
    const returned = main(params);
    try {
      const result = await returned;
      return result === undefined ? {} : result;
    } catch (reason) {
      return { error: reason ? serializeError(reason) : {} };
    }
  }

  /**
   * The invoker's rule (docs/reference/openwhisk-contract.md §6.4): an oversized result becomes an
   * application error.
   */
  #limitResult(json: string): Reply {
    const limit = this.#options.maxResultBytes;
    const size = Buffer.byteLength(json);
    if (size <= limit) return { status: 200, body: json };
    const notice = `The action produced a response that exceeded the allowed length: ${size} > ${limit} bytes. The truncated response was: `;
    // Keep the whole reply within the limit so the controller never has to truncate it again.
    const room = Math.max(0, limit - Buffer.byteLength(notice) - 64);
    const truncated = Buffer.from(json)
      .subarray(0, room)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
    return errorReply(200, notice + truncated);
  }
}
