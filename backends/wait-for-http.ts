// Readiness of a runtime behind a published port. A TCP connect is not enough: docker's userland
// proxy accepts on the host port before the container listens, then closes. So a probe counts only
// when an HTTP response starts to come back (any status: blackbox images answer as they like).
// The same holds for a unix socket whose forwarder accepts before the action listens.
import { connect } from 'node:net';

/** Where a runtime listens: a TCP port, or a unix socket (`socketPath`). */
export type HttpTarget = { host: string; port: number } | { socketPath: string };

function describeTarget(target: HttpTarget): string {
  return 'socketPath' in target ? target.socketPath : `${target.host}:${target.port}`;
}

function probe(target: HttpTarget, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  const extra = Object.entries(headers).map(([key, value]) => `${key}: ${value}\r\n`);
  const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra.join('')}Connection: close\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = 'socketPath' in target ? connect({ path: target.socketPath }) : connect(target);
    const done = (ready: boolean): void => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write(request));
    socket.once('data', () => done(true));
    socket.once('close', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * The longest pause between probes. A runtime boots in ~50–100 ms; its readiness is found at most
 * this late. A probe of a socket that is not there yet costs a failed connect, nothing more.
 */
const MAX_PROBE_GAP_MS = 10;

export interface WaitForHttpOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called between failed probes (at most every `checkEveryMs`); throw to stop waiting (the container died). */
  check?: () => Promise<void>;
  checkEveryMs?: number;
  /** Sent with each probe (the runtime secret, so a forwarder passes the probe on). */
  headers?: Record<string, string>;
}

export async function waitForHttp(target: HttpTarget, options: WaitForHttpOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const checkEveryMs = options.checkEveryMs ?? 250;
  let lastCheck = Date.now();
  for (let delay = 2; ; delay = Math.min(delay * 2, MAX_PROBE_GAP_MS)) {
    options.signal?.throwIfAborted();
    if (await probe(target, options.headers ?? {}, Math.max(1, Math.min(1000, deadline - Date.now()))))
      return;
    if (Date.now() >= deadline)
      throw new Error(`no HTTP answer on ${describeTarget(target)} within ${options.timeoutMs} ms`);
    if (options.check && Date.now() - lastCheck >= checkEveryMs) {
      lastCheck = Date.now();
      await options.check();
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
