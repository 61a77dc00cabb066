// The runtime port of an image that speaks OpenWhisk's protocol only over TCP (blackbox images,
// OpenWhisk's own runtimes). Runs in a second container that shares the action container's network
// namespace, which has loopback only: it accepts calls on a unix socket that only the host can
// reach, checks the per-container secret, and passes them to 127.0.0.1:8080 of the action.
//
// Environment: GUST_RUNTIME_SOCKET (where to listen), GUST_RUNTIME_SECRET_FILE, and
// GUST_FORWARD_PORT (the action's port, default 8080).
import { existsSync, unlinkSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { SECRET_HEADER, secretMatches, takeRuntimeSecret } from './runtime-secret';

const secret = takeRuntimeSecret();
const socketPath = process.env.GUST_RUNTIME_SOCKET ?? '/gust/runtime.sock';
const port = Number(process.env.GUST_FORWARD_PORT ?? 8080);
const agent = new Agent({ keepAlive: true });

const server = createServer((request, response) => {
  if (!secretMatches(secret, request.headers[SECRET_HEADER])) {
    request.resume();
    response.writeHead(401, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'Unauthorized.' }));
    return;
  }
  const headers = { ...request.headers };
  delete headers[SECRET_HEADER];
  const upstream = httpRequest(
    { host: '127.0.0.1', port, method: request.method, path: request.url, headers, agent },
    (reply) => {
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
    },
  );
  // Not listening yet, or the action's server died: the caller sees the connection fail, as it
  // would talking to the port itself.
  upstream.on('error', () => response.destroy());
  request.pipe(upstream);
});
server.requestTimeout = 0;
server.headersTimeout = 0;
server.timeout = 0;
server.keepAliveTimeout = 5 * 60_000;
if (existsSync(socketPath)) unlinkSync(socketPath);
server.listen(socketPath);
