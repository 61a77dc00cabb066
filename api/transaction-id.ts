// Transaction ids (OpenWhisk common/TransactionId.scala): the caller's X-Request-ID is kept unless
// it starts with `sid_` (OpenWhisk's system ids) or is unreasonable; otherwise a fresh 32-char
// [A-Za-z0-9] id. The id is sent back as X-Request-ID and as `code` in error bodies.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ACCEPTABLE = /^[\x21-\x7e]{1,128}$/;

export function generateTransactionId(): string {
  const bytes = randomBytes(32);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 62];
  return id;
}

export function transactionIdFor(header: string | string[] | undefined): string {
  if (typeof header === 'string' && !header.startsWith('sid_') && ACCEPTABLE.test(header)) return header;
  return generateTransactionId();
}
