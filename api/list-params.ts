// List query parameters (docs/reference/openwhisk-contract.md §3.8): skip, limit (default 30, max
// 200, 0 = max) and count, with OpenWhisk's 400 messages. Query values arrive as strings (the
// schemas do not coerce).
import { apiError } from './errors';

export const LIST_LIMIT_DEFAULT = 30;
export const LIST_LIMIT_MAX = 200;

export interface ListQuery {
  skip?: string;
  limit?: string;
  count?: string;
}

export interface ListParams {
  skip: number;
  limit: number;
  count: boolean;
}

function integer(collection: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw apiError('GUST_ERR_LIST_NOT_INTEGER', collection, value);
  return Number(value);
}

export function parseListParams(collection: string, query: ListQuery): ListParams {
  const skip = query.skip === undefined ? 0 : integer(collection, query.skip);
  if (skip < 0) throw apiError('GUST_ERR_LIST_SKIP_RANGE', collection, skip);
  let limit = query.limit === undefined ? LIST_LIMIT_DEFAULT : integer(collection, query.limit);
  if (limit < 0 || limit > LIST_LIMIT_MAX)
    throw apiError('GUST_ERR_LIST_LIMIT_RANGE', collection, limit, LIST_LIMIT_MAX);
  if (limit === 0) limit = LIST_LIMIT_MAX;
  return { skip, limit, count: query.count === 'true' };
}

/** Query-string schema properties shared by every list route. */
export const LIST_QUERY_PROPERTIES = {
  skip: { type: 'string' },
  limit: { type: 'string' },
  count: { type: 'string', enum: ['true', 'false'] },
  public: { type: 'string' },
} as const;

/** Pages an in-memory, already ordered list. */
export function page<T>(items: readonly T[], params: ListParams): T[] {
  return items.slice(params.skip, params.skip + params.limit);
}
