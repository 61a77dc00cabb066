// Request logs: one `info` line per API request once its response is sent, with the request id
// (Fastify's reqId, the transaction id) and, for invokes, the activation id. Replaces Fastify's two
// lines per request (`disableRequestLogging` in api/app.ts).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const ACTIVATION_ID = 'x-openwhisk-activation-id';

async function requestLog(app: FastifyInstance): Promise<void> {
  app.addHook('onResponse', (request, reply, done) => {
    const activationId = reply.getHeader(ACTIVATION_ID);
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        ...(activationId === undefined ? {} : { activationId }),
      },
      'request',
    );
    done();
  });
}

export default fp(requestLog, { name: 'gust-request-log' });
