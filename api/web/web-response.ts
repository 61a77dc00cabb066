// How a web action's result becomes the HTTP response (WebActions.scala `resultAsHttp` and the
// extension projections, OpenWhisk's docs/webactions.md). Pure: the route sends what this decides.
import { apiError } from '../errors';

export type WebExtension = 'http' | 'json' | 'html' | 'svg' | 'text';
export const WEB_EXTENSIONS: readonly WebExtension[] = ['json', 'html', 'svg', 'text', 'http'];

export interface WebResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The string at `body` or at `field`. */
function stringField(result: unknown, field: string): string | undefined {
  if (!isObject(result)) return undefined;
  const value = result.body ?? result[field];
  return typeof value === 'string' ? value : undefined;
}

export function webResponse(result: unknown, extension: WebExtension): WebResponse {
  switch (extension) {
    case 'json':
      if (typeof result !== 'object' || result === null) throw apiError('GUST_ERR_WEB_NOT_JSON');
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(result),
      };
    case 'html': {
      const html = stringField(result, 'html');
      if (html === undefined) throw apiError('GUST_ERR_WEB_NOT_HTML');
      return { statusCode: 200, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: html };
    }
    case 'svg': {
      const svg = stringField(result, 'svg');
      if (svg === undefined) throw apiError('GUST_ERR_WEB_NOT_SVG');
      return { statusCode: 200, headers: { 'content-type': 'image/svg+xml' }, body: svg };
    }
    case 'text': {
      const value = isObject(result) ? (result.body ?? result.text) : undefined;
      if (value === undefined) throw apiError('GUST_ERR_WEB_NO_PROPERTY');
      const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
      return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: text };
    }
    case 'http':
      return httpResponse(result);
  }
}

const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?$/;
const CONTENT_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/;

const isJsonType = (type: string): boolean => /^application\/(.+\+)?json\b/i.test(type);
const isTextType = (type: string): boolean =>
  /^text\//i.test(type) ||
  /^application\/(.+\+)?(xml|javascript|x-www-form-urlencoded)\b/i.test(type) ||
  /^image\/svg\+xml\b/i.test(type);

/** `{headers, statusCode, body}` as an HTTP response (`.http`, the default extension). */
function httpResponse(result: unknown): WebResponse {
  if (!isObject(result)) throw apiError('GUST_ERR_WEB_NOT_HTTP');
  const headers: Record<string, string | string[]> = {};
  if (result.headers !== undefined) {
    if (!isObject(result.headers)) throw apiError('GUST_ERR_WEB_NOT_HTTP');
    for (const [name, value] of Object.entries(result.headers)) {
      if (Array.isArray(value)) headers[name.toLowerCase()] = value.map(String);
      else if (['string', 'number', 'boolean'].includes(typeof value))
        headers[name.toLowerCase()] = String(value);
      else throw apiError('GUST_ERR_WEB_NOT_HTTP');
    }
  }
  let statusCode: number | undefined;
  if (result.statusCode !== undefined) {
    statusCode = Number(result.statusCode);
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999)
      throw apiError('GUST_ERR_WEB_NOT_HTTP');
  }
  const { body } = result;
  if (body === undefined || body === null || body === '') {
    delete headers['content-type'];
    return { statusCode: statusCode ?? 204, headers };
  }
  const declared = headers['content-type'];
  const type = Array.isArray(declared) ? declared[0] : declared;
  if (type !== undefined && !CONTENT_TYPE.test(type)) throw apiError('GUST_ERR_WEB_UNKNOWN_TYPE');
  if (typeof body === 'string') {
    const contentType = type ?? 'text/html';
    headers['content-type'] = contentType;
    // Binary types are sent base64-encoded; JSON types too when the string looks like base64.
    const decode =
      (!isTextType(contentType) && !isJsonType(contentType)) ||
      (isJsonType(contentType) && BASE64.test(body));
    return { statusCode: statusCode ?? 200, headers, body: decode ? Buffer.from(body, 'base64') : body };
  }
  const contentType = type ?? 'application/json';
  if (!isJsonType(contentType)) throw apiError('GUST_ERR_WEB_TYPE_MISMATCH');
  headers['content-type'] = contentType;
  return { statusCode: statusCode ?? 200, headers, body: JSON.stringify(body, null, type ? 2 : undefined) };
}
