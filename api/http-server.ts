// The controller's HTTP server, bounded against slow and greedy clients (audit M9): a request must
// arrive whole within `requestTimeoutMs` (slow-loris bodies get 408 and the socket closes), an idle
// connection closes after `idleTimeoutMs` (longer than the longest blocking invoke), and at most
// `maxConnections` sockets are open at once (more are refused at accept).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpServerLimits {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

export function boundedServerFactory(limits: HttpServerLimits) {
  return (handler: (request: IncomingMessage, response: ServerResponse) => void): Server => {
    const server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.requestTimeoutMs,
        // Node checks the two timeouts above this often (default 30 s).
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4))),
        keepAliveTimeout: 72_000,
      },
      handler,
    );
    server.setTimeout(limits.idleTimeoutMs);
    server.maxConnections = limits.maxConnections;
    return server;
  };
}
