// The agent endpoint: how a controller on another machine calls the containers of this Docker host
// (backends/host-routes.ts is the controller's side; docs/design.md "Several Docker hosts").
// Action containers have no network (spec.ts): their runtimes listen on unix sockets in this
// host's runtime directory, which only processes on this machine can open. The agent serves, on
// GUST_AGENT_ENDPOINT_HOST:PORT, for each container `name` it owns:
//   POST /containers/<name>/init, /run   relayed, body and answer streamed, to the runtime's socket
//   GET  /containers/<name>/state        what the engine knows of it (?awaitExitMs=…)
//   GET  /containers/<name>/logs         the engine's raw log stream, followed
// and nothing else (404). It is no open proxy: a name reaches only a container whose runtime
// directory is in this agent's runtime directory (and, for state and logs, whose host label is
// this host's), and only with that container's own runtime secret in the request; an unknown
// container and a wrong or missing secret get the same 401, so names cannot be probed. The secret
// travels on to the runtime, which checks it again. A runtime that hangs up makes the endpoint
// drop the controller's connection too, so the controller sees what it would see on the socket.
// Plain HTTP: the secret and the payloads cross the network in the clear. Bind it to an interface
// that only controllers reach (a private network), or put TLS in front; see the README.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Logger } from '../../common/logger';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import type { DockerBackend } from './backend';

/** What the endpoint needs of this host's backend. */
export type HostedContainers = Pick<
  DockerBackend,
  'runtimeOf' | 'ownContainerId' | 'followRawLogs' | 'state'
>;

export interface AgentEndpointOptions {
  containers: HostedContainers;
  host: string;
  /** 0: any free port. */
  port: number;
  log: Logger;
}

export interface RunningAgentEndpoint {
  /** `http://<host>:<port>` as bound. */
  url: string;
  close(): Promise<void>;
}

/** Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
const ROUTE = /^\/containers\/([a-zA-Z0-9][a-zA-Z0-9_.-]{0,254})\/(init|run|state|logs)(?:\?(.*))?$/;
type Runtime = { socketPath: string; secret: string };
/** Runtimes whose secret the endpoint keeps in memory (about one per container of the host). */
const MAX_KNOWN_RUNTIMES = 10_000;
/** Longest wait for a container to stop that a caller may ask of /state. */
const MAX_AWAIT_EXIT_MS = 10_000;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time comparison of a presented secret with the container's. */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), digest(secret));
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startAgentEndpoint(options: AgentEndpointOptions): Promise<RunningAgentEndpoint> {
  const { containers, log } = options;
  // One keep-alive pool per runtime socket (the agent's key includes the socket path).
  const sockets = new Agent({ keepAlive: true, maxFreeSockets: 4 });
  // Runtimes recently called with their right secret: a warm call reads no file (bench/agent-endpoint.ts).
  // Only a match is taken from here; a miss or a mismatch reads the runtime directory again, and a
  // runtime that cannot be reached is dropped. An entry only ever points into this agent's runtime
  // directory.
  const known = new Map<string, Runtime>();
  const runtimeFor = async (name: string, presented: string | undefined): Promise<Runtime | undefined> => {
    const cached = known.get(name);
    if (cached && secretMatches(presented, cached.secret)) return cached;
    const runtime = await containers.runtimeOf(name);
    if (runtime === undefined || !secretMatches(presented, runtime.secret)) {
      if (runtime === undefined) known.delete(name);
      return undefined;
    }
    if (known.size >= MAX_KNOWN_RUNTIMES) known.delete(known.keys().next().value!);
    known.set(name, runtime);
    return runtime;
  };

  const relay = (
    req: IncomingMessage,
    res: ServerResponse,
    socketPath: string,
    path: string,
    secret: string,
    unreachable: () => void,
  ): void => {
    const headers: Record<string, string> = {
      'content-type': req.headers['content-type'] ?? 'application/json',
      accept: 'application/json',
      [SECRET_HEADER]: secret,
    };
    if (req.headers['content-length'] !== undefined)
      headers['content-length'] = req.headers['content-length'];
    const upstream = request({ socketPath, path, method: 'POST', headers, agent: sockets });
    // The controller gave up (its timeout): the runtime's call is dropped too, as on the socket.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('response', (reply) => {
      res.writeHead(reply.statusCode ?? 502, {
        'content-type': reply.headers['content-type'] ?? 'application/json',
        ...(reply.headers['content-length'] !== undefined
          ? { 'content-length': reply.headers['content-length'] }
          : {}),
      });
      reply.pipe(res);
      reply.on('error', () => res.destroy());
    });
    // The runtime hung up or is gone: so is the controller's connection (it then asks /state).
    upstream.on('error', () => {
      unreachable();
      res.destroy();
    });
    req.pipe(upstream);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = ROUTE.exec(req.url ?? '');
    const verb = match?.[2];
    const method = verb === 'init' || verb === 'run' ? 'POST' : 'GET';
    if (!match || req.method !== method) return answer(res, 404, { error: 'not found' });
    const name = match[1]!;
    const presented = req.headers[SECRET_HEADER];
    const runtime = await runtimeFor(name, typeof presented === 'string' ? presented : undefined);
    if (runtime === undefined)
      return answer(res, 401, { error: 'unknown container or wrong runtime secret' });
    if (verb === 'init' || verb === 'run')
      return relay(req, res, runtime.socketPath, `/${verb}`, runtime.secret, () => known.delete(name));
    const id = await containers.ownContainerId(name);
    if (id === undefined) return answer(res, 401, { error: 'unknown container or wrong runtime secret' });
    if (verb === 'state') {
      const wait = Number(new URLSearchParams(match[3] ?? '').get('awaitExitMs') ?? 0);
      const awaitExitMs = Number.isFinite(wait) ? Math.min(Math.max(wait, 0), MAX_AWAIT_EXIT_MS) : 0;
      return answer(res, 200, { state: await containers.state(id, { awaitExitMs }) });
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const stream = await containers.followRawLogs(id, abort.signal);
    res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
    await pipeline(Readable.from(stream), res).catch(() => undefined);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.warn({ err, url: req.url }, 'agent endpoint: a request failed');
      if (!res.headersSent) answer(res, 500, { error: 'the agent could not serve this request' });
      else res.destroy();
    });
  });
  // Longer than the controllers' keep-alive (runtimes/runtime-client.ts: 60 s), so it is the
  // client that closes an idle connection, never this side under a request in flight.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      sockets.destroy();
      await closed;
    },
  };
}
