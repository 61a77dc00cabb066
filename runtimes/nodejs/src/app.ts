// Entry point of the Node.js action runtime: POST /init and POST /run on port 8080 (OpenWhisk's
// action protocol) on bare node:http, so the image needs nothing but the node binary.
//
// Environment:
//   __OW_PORT               listening port (default PORT, as Knative sets it, else 8080; 0 = any
//                           free port, reported over IPC)
//   __OW_HOST               listening address (default all interfaces; the process backend uses 127.0.0.1)
// __OW_ALLOW_CONCURRENT   "true" lets /run calls overlap (docs/reference/openwhisk-contract.md
// §6.6); Gust sends it in the
//                           /init env only for actions whose concurrency limit is above 1
//   GUST_MAX_RESULT_BYTES   result size limit (default 1 MiB, OpenWhisk's)
//   GUST_RUNTIME_SOCKET     listen on this unix socket instead of a TCP port (Gust's containers
//                           have no network interface but loopback: see backends/docker/spec.ts)
//   GUST_RUNTIME_SECRET_FILE / GUST_RUNTIME_SECRET  the per-container secret every /init and /run
//                           must carry (runtime-secret.ts)
//   __OW_ACTION_CODE / __OW_ACTION_MAIN / __OW_ACTION_BINARY / GUST_ACTION_CODE_FILE  init-on-start:
//                           the runtime initialises itself before it listens (init-on-start.ts)
//   GUST_POD_NAME           the pod's name (Knative), returned in x-gust-pod on every reply
import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionService, type Reply } from './action-service';
import { POD_HEADER, POD_NAME_ENV, initOnStartMessage } from './init-on-start';
import { SECRET_HEADER, secretMatches, takeRuntimeSecret } from './runtime-secret';

const MAX_BODY_BYTES = 48 * 1024 * 1024; // the official runtime's express body limit
const BAD_REQUEST: Reply = { status: 500, body: JSON.stringify({ error: 'Bad request.' }) };
const UNAUTHORIZED: Reply = { status: 401, body: JSON.stringify({ error: 'Unauthorized.' }) };
// Taken before any action code can load, so no action ever sees it.
const secret = takeRuntimeSecret();
const socketPath = process.env.GUST_RUNTIME_SOCKET;
const podName = process.env[POD_NAME_ENV];
delete process.env.GUST_RUNTIME_SOCKET;

const service = new ActionService({
  allowConcurrent: (process.env.__OW_ALLOW_CONCURRENT ?? '').toLowerCase() === 'true',
  maxResultBytes: Number(process.env.GUST_MAX_RESULT_BYTES ?? 1024 * 1024),
});

function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        request.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      try {
        resolve(size === 0 ? {} : JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(reply.body),
    ...(podName ? { [POD_HEADER]: podName } : {}),
  });
  response.end(reply.body);
}

async function handle(request: IncomingMessage): Promise<Reply> {
  if (!secretMatches(secret, request.headers[SECRET_HEADER])) {
    request.resume();
    return UNAUTHORIZED;
  }
  if (request.method !== 'POST' || (request.url !== '/init' && request.url !== '/run')) return BAD_REQUEST;
  let body: unknown;
  try {
    body = await readJson(request);
  } catch {
    return BAD_REQUEST;
  }
  return request.url === '/init' ? service.init(body) : service.run(body);
}

const server = createServer((request, response) => {
  handle(request).then(
    (reply) => send(response, reply),
    (error: unknown) => {
      // stderr is the container's log (the activation's, as in OpenWhisk's runtimes), not Gust's.
      console.error('[runtime]', 'unexpected failure', error);
      send(response, { status: 500, body: JSON.stringify({ error: 'Internal error.' }) });
    },
  );
});
// Actions may run for minutes; the caller enforces the time limit, never this server.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.timeout = 0;
// Longer than any client's idle keep-alive, so the controller's pooled connections are not cut.
server.keepAliveTimeout = 5 * 60_000;

const onListening = (): void => {
  // The process backend starts us on port 0 and learns the port over its IPC channel; when that
  // channel closes, the backend is gone and so are we (no orphans after a crashed test run).
  if (process.send) {
    const address = server.address();
    process.send(typeof address === 'string' ? { socket: address } : { port: (address as AddressInfo).port });
    process.on('disconnect', () => process.exit(0));
  }
};
function listen(): void {
  if (socketPath) {
    if (existsSync(socketPath)) unlinkSync(socketPath); // left by an earlier start of this container
    server.listen(socketPath, onListening);
  } else {
    server.listen(
      Number(process.env.__OW_PORT ?? process.env.PORT ?? 8080),
      process.env.__OW_HOST,
      onListening,
    );
  }
}

// Listening is the readiness signal (a TCP probe): with init-on-start, only once the action is loaded.
let startMessage: ReturnType<typeof initOnStartMessage> | Error;
try {
  startMessage = initOnStartMessage();
} catch (error) {
  console.error('[runtime]', 'cannot read the action code', error);
  startMessage = error instanceof Error ? error : new Error(String(error));
}
if (startMessage === undefined) listen();
else void service.initOnStart(startMessage).then(listen);
