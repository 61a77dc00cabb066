// OpenWhisk's cross-cutting HTTP behaviour (docs/reference/openwhisk-contract.md §1.4, §2.1), for
// every route of the app: X-Request-ID, CORS, JSON content type, empty JSON bodies as `{}`, and
// every error, Fastify's own included, answered as `{error, code}` with OpenWhisk's status and
// text.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { API_ERRORS, apiError, isApiError } from './errors';

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, DELETE, POST, PUT, HEAD',
  'access-control-allow-headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

interface ErrorBody {
  error: string;
  code: string;
}

function sendError(request: FastifyRequest, reply: FastifyReply, statusCode: number, error: string): void {
  const body: ErrorBody = { error, code: request.id };
  if (statusCode === 401) void reply.header('www-authenticate', 'Basic realm="OpenWhisk secure realm"');
  void reply.code(statusCode).type('application/json').send(body);
}

/** Maps any thrown error, Fastify's included, to OpenWhisk's status and text. */
export function describeError(
  err: FastifyError | Error,
  request: FastifyRequest,
): { statusCode: number; message: string; internal: boolean } {
  if (isApiError(err)) return { statusCode: err.statusCode, message: err.message, internal: false };
  const fastifyError = err as FastifyError;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'body';
    const detail = where === 'body' ? fastifyError.message : `${where}: ${fastifyError.message}`;
    return {
      statusCode: 400,
      message: API_ERRORS.GUST_ERR_REQUEST_MALFORMED.message(detail),
      internal: false,
    };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { statusCode: 415, message: API_ERRORS.GUST_ERR_REQUEST_MEDIA_TYPE.message(), internal: false };
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const size = request.headers['content-length'] ?? 'unknown';
      const max = request.routeOptions.bodyLimit ?? 0;
      return {
        statusCode: 413,
        message: API_ERRORS.GUST_ERR_REQUEST_TOO_LARGE.message('Request', size, max),
        internal: false,
      };
    }
  }
  const statusCode = fastifyError.statusCode ?? 500;
  if (statusCode === 400 || err instanceof SyntaxError) {
    // Malformed JSON and other body-parser complaints.
    return {
      statusCode: 400,
      message: API_ERRORS.GUST_ERR_REQUEST_MALFORMED.message(err.message),
      internal: false,
    };
  }
  if (statusCode >= 400 && statusCode < 500) return { statusCode, message: err.message, internal: false };
  return { statusCode: 500, message: API_ERRORS.GUST_ERR_SERVER_INTERNAL.message(), internal: true };
}

async function httpConventions(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', async (_request, reply) => {
    void reply.headers(CORS_HEADERS);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-request-id', request.id);
    if (!reply.hasHeader('content-type')) void reply.type('application/json');
    return payload;
  });

  // OpenWhisk accepts an empty body as `{}` (RestApiCommons.emptyEntityToJsObject), and only JSON.
  app.removeContentTypeParser('text/plain');
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && (request.method === 'PUT' || request.method === 'POST'))
      request.body = {};
  });
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    void parseJson(request, text, done);
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { statusCode, message, internal } = describeError(err, request);
    if (internal) request.log.error({ err }, 'request failed');
    sendError(request, reply, statusCode, message);
  });
  app.setNotFoundHandler((request, reply) => {
    const notFound = apiError('GUST_ERR_ROUTE_NOT_FOUND');
    sendError(request, reply, notFound.statusCode, notFound.message);
  });
}

export default fp(httpConventions, { name: 'gust-http-conventions', fastify: '5.x' });
