// What the official runtime puts under `error` when main's promise rejects: the npm
// `serialize-error` shape (name, message, stack and own properties; plain values unchanged).

const ERROR_FIELDS = ['name', 'message', 'stack', 'code', 'cause'] as const;

function serializeValue(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (seen.has(value)) return '[Circular]';
  if (Buffer.isBuffer(value)) return '[object Buffer]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => serializeValue(item, seen) ?? null);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const serialized = serializeValue(item, seen);
    if (serialized !== undefined) out[key] = serialized;
  }
  if (value instanceof Error) {
    for (const key of ERROR_FIELDS) {
      const field = (value as unknown as Record<string, unknown>)[key];
      if (field !== undefined) out[key] = serializeValue(field, seen);
    }
  }
  seen.delete(value);
  return out;
}

export function serializeError(reason: unknown): unknown {
  return serializeValue(reason, new Set());
}
