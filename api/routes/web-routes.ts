// Web actions: /api/v1/web/{namespace}/{package|default}/{action}[.ext][/path] (WebActions.scala,
// OpenWhisk's docs/webactions.md). Outside the authenticated scope: credentials are optional
// (`__ow_user`), the action must be annotated `web-export`, and it runs as its owner (recorded in
// the owner's namespace). Bodies of any content type are read here as raw bytes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SIZE_LIMITS } from '../action-limits';
import { resolveAction } from '../action-resolution';
import type { ApiContext } from '../api-context';
import type { Identity } from '../authenticator';
import { assertFinalParametersKept } from '../compositions/composition-starter';
import { isEntityName } from '../entity-names';
import { apiError } from '../errors';
import { isTruthy, keyValueOf } from '../key-values';
import type { OwnerIdentities } from '../owner-identities';
import { settledWithin } from '../settled-within';
import type { WebExtension } from '../web/web-response';
import { WEB_EXTENSIONS, webResponse } from '../web/web-response';

export interface WebRouteOptions extends ApiContext {
  owners: OwnerIdentities;
}

interface WebRoute {
  Params: { namespace: string; pkg: string; '*': string };
  Querystring: Record<string, string | string[]>;
  Body: Buffer | undefined;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH',
};
const DEFAULT_ALLOW_HEADERS = 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent';

const truthy = (value: unknown): boolean => isTruthy(value);

/** `name.ext/rest` → name, extension (default http) and the unmatched path. */
function splitTail(tail: string): { name: string; extension: WebExtension; path: string } {
  const slash = tail.indexOf('/');
  const head = slash < 0 ? tail : tail.slice(0, slash);
  const path = slash < 0 ? '' : tail.slice(slash);
  for (const extension of WEB_EXTENSIONS) {
    if (head.endsWith(`.${extension}`))
      return { name: head.slice(0, -extension.length - 1), extension, path };
  }
  return { name: head, extension: 'http', path };
}

const isJsonType = (type: string): boolean => /^application\/(.+\+)?json\b/i.test(type);
const isTextType = (type: string): boolean =>
  /^text\//i.test(type) || /^application\/(.+\+)?(xml|javascript)\b/i.test(type);

export async function webRoutes(app: FastifyInstance, ctx: WebRouteOptions): Promise<void> {
  const { entities, compositions, throttles, config, auth, owners } = ctx;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: SIZE_LIMITS.invokePayload },
    (_req, body, done) => done(null, body),
  );

  async function optionalCaller(request: FastifyRequest): Promise<Identity | undefined> {
    try {
      return await auth.authenticate(request.headers.authorization);
    } catch {
      return undefined;
    }
  }

  /** The arguments: metadata, then query, then body, over the action's and package's parameters. */
  function argumentsOf(request: FastifyRequest<WebRoute>, raw: boolean, path: string, user?: Identity) {
    const headers: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(request.headers)) headers[key.toLowerCase()] = value;
    const meta: Record<string, unknown> = {
      __ow_method: request.method.toLowerCase(),
      __ow_headers: headers,
      __ow_path: path,
    };
    if (user) meta.__ow_user = user.namespace;
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
    if (raw) {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const text =
        body === undefined ? '' : isTextType(contentType) ? body.toString('utf8') : body.toString('base64');
      return { meta: { ...meta, __ow_query: query, __ow_body: text }, input: {} };
    }
    const input: Record<string, unknown> = { ...request.query };
    if (body !== undefined && body.length > 0) {
      if (isJsonType(contentType)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          throw apiError('GUST_ERR_REQUEST_MALFORMED', 'the request body is not valid JSON');
        }
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
          Object.assign(input, parsed);
        else meta.__ow_body = parsed;
      } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
        for (const [key, value] of new URLSearchParams(body.toString('utf8'))) input[key] = value;
      } else if (isTextType(contentType)) {
        meta.__ow_body = body.toString('utf8');
      } else {
        meta.__ow_body = body.toString('base64');
      }
    }
    return { meta, input };
  }

  async function serve(request: FastifyRequest<WebRoute>, reply: FastifyReply) {
    const { namespace, pkg } = request.params;
    const { name, extension, path } = splitTail(request.params['*'] ?? '');
    if (!isEntityName(namespace) || !isEntityName(name) || !isEntityName(pkg))
      throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    const owner = await owners.of(namespace);
    if (!owner) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    const resolved = await resolveAction(
      entities,
      namespace,
      pkg === 'default' ? undefined : pkg,
      name,
    ).catch(() => {
      throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    });
    const { action } = resolved;
    // No information leak: anything not exported is simply not there.
    if (!truthy(keyValueOf(action.annotations, 'web-export'))) throw apiError('GUST_ERR_ENTITY_NOT_FOUND');
    const customOptions = truthy(keyValueOf(action.annotations, 'web-custom-options'));
    if (!customOptions) {
      void reply.headers({
        ...CORS,
        'access-control-allow-headers':
          request.headers['access-control-request-headers'] ?? DEFAULT_ALLOW_HEADERS,
      });
      if (request.method === 'OPTIONS') return reply.code(200).send();
    } else {
      for (const header of [
        'access-control-allow-origin',
        'access-control-allow-methods',
        'access-control-allow-headers',
      ])
        reply.removeHeader(header);
    }
    const user = await optionalCaller(request);
    const requireAuth = keyValueOf(action.annotations, 'require-whisk-auth');
    if (!(customOptions && request.method === 'OPTIONS') && truthy(requireAuth)) {
      const allowed =
        requireAuth === true
          ? user !== undefined
          : request.headers['x-require-whisk-auth'] === String(requireAuth);
      if (!allowed) throw apiError('GUST_ERR_AUTH_MISSING');
    }
    const raw = truthy(keyValueOf(action.annotations, 'raw-http'));
    const { meta, input } = argumentsOf(request, raw, path, user);
    if (!raw) {
      if (Object.keys(input).some((key) => key.startsWith('__ow_')))
        throw apiError('GUST_ERR_REQUEST_BAD_PARAMETERS');
      assertFinalParametersKept(resolved, input);
    }
    throttles.admit(owner.namespace);
    const started = compositions.start({
      ...resolved,
      payload: { ...input, ...meta },
      identity: owner,
      transactionId: request.id,
    });
    if (started.kind === 'refused') throw started.error;
    void reply.header('x-openwhisk-activation-id', started.activationId);
    const done = await settledWithin(started.completion, config.controller.blockingWaitMs);
    if (!done) return reply.code(202).send({ error: 'Response not yet ready.', code: request.id });
    const outcome = done.activation.response;
    if (outcome.statusCode === 2 || outcome.statusCode === 3) throw apiError('GUST_ERR_WEB_ACTION_FAILED');
    const result =
      outcome.statusCode === 1 ? (outcome.result as { error?: unknown } | undefined)?.error : outcome.result;
    const answer = webResponse(result, extension);
    return reply
      .code(answer.statusCode)
      .headers(answer.headers)
      .send(answer.body ?? '');
  }

  app.route<WebRoute>({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'],
    url: '/:namespace/:pkg/*',
    handler: serve,
  });
}
