// Entry point of the Node.js action runtime: POST /init and POST /run on port 8080 (OpenWhisk's
// action protocol) on bare node:http, so the image needs nothing but the node binary.
//
// Environment:
//   __OW_PORT               listening port (default 8080; 0 = any free port, reported over IPC)
//   __OW_HOST               listening address (default all interfaces; the process backend uses 127.0.0.1)
//   __OW_ALLOW_CONCURRENT   "true" lets /run calls overlap (contract §6.6)
//   GUST_MAX_RESULT_BYTES   result size limit (default 1 MiB, OpenWhisk's)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionService, type Reply } from './action-service';

const MAX_BODY_BYTES = 48 * 1024 * 1024; // the official runtime's express body limit
const BAD_REQUEST: Reply = { status: 500, body: JSON.stringify({ error: 'Bad request.' }) };

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
  });
  response.end(reply.body);
}

async function handle(request: IncomingMessage): Promise<Reply> {
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

server.listen(Number(process.env.__OW_PORT ?? 8080), process.env.__OW_HOST, () => {
  // The process backend starts us on port 0 and learns the port over its IPC channel; when that
  // channel closes, the backend is gone and so are we (no orphans after a crashed test run).
  if (process.send) {
    process.send({ port: (server.address() as AddressInfo).port });
    process.on('disconnect', () => process.exit(0));
  }
});
