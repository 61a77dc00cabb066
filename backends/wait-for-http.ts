// Readiness of a runtime behind a published port. A TCP connect is not enough: docker's userland
// proxy accepts on the host port before the container listens, then closes. So a probe counts only
// when an HTTP response starts to come back (any status: blackbox images answer as they like).
import { connect } from 'node:net';

const PROBE = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

function probe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ready: boolean): void => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write(PROBE));
    socket.once('data', () => done(true));
    socket.once('close', () => done(false));
    socket.once('error', () => done(false));
  });
}

export interface WaitForHttpOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called between failed probes (at most every `checkEveryMs`); throw to stop waiting (the container died). */
  check?: () => Promise<void>;
  checkEveryMs?: number;
}

export async function waitForHttp(host: string, port: number, options: WaitForHttpOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const checkEveryMs = options.checkEveryMs ?? 250;
  let lastCheck = Date.now();
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    options.signal?.throwIfAborted();
    if (await probe(host, port, Math.max(1, Math.min(1000, deadline - Date.now())))) return;
    if (Date.now() >= deadline)
      throw new Error(`no HTTP answer on ${host}:${port} within ${options.timeoutMs} ms`);
    if (options.check && Date.now() - lastCheck >= checkEveryMs) {
      lastCheck = Date.now();
      await options.check();
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
