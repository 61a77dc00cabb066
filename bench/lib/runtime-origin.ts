// How the bench reaches a runtime directly (the floors): an http origin, or the `unix:<socket>`
// address of the docker and process backends, whose runtime wants its per-container secret on
// every call (runtimes/runtime-address.ts).
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { SECRET_HEADER } from '../../runtimes/nodejs/src/runtime-secret';
import { secretFileOf, socketPathOf } from '../../runtimes/runtime-address';
import type { InitPayload, RunPayload } from '../../runtimes/runtime-client';

/** The bench's action everywhere (Gust's and the floors'): a noop. */
export const NOOP_CODE = 'function main() { return {}; }';
/** The floors' /init and /run of it. */
export const NOOP_INIT: InitPayload = {
  value: { name: 'noop', main: 'main', code: NOOP_CODE, binary: false },
};
export const NOOP_RUN: RunPayload = {
  value: {},
  namespace: 'guest',
  action_name: '/guest/noop',
  activation_id: '0'.repeat(32),
  deadline: '0',
};

/** An undici Pool to an http origin or to a `unix:` runtime address. */
export function poolFor(origin: string, options: Pool.Options): Pool {
  const socketPath = socketPathOf(origin);
  return socketPath === undefined
    ? new Pool(origin, options)
    : new Pool('http://localhost', { ...options, socketPath });
}

/** Headers a direct call to this runtime needs (its secret, for a `unix:` address). */
export function runtimeHeaders(address: string): Record<string, string> {
  const socketPath = socketPathOf(address);
  if (socketPath === undefined) return {};
  return { [SECRET_HEADER]: readFileSync(secretFileOf(socketPath), 'utf8') };
}
