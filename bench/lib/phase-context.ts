// What every phase of bench/suite.ts (bench/phases/*.ts) is given, and the requests and router
// observations they share: a phase reads the stack through these, so each regime's module holds
// only what it measures.
import { request } from 'undici';
import { GUEST_API_KEY } from '../../api/api-keys';
import type { LeasedContainer } from '../../api/invoke/router';
import { NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import type { BenchStack } from './gust-stack';
import type { LoadGenerator } from './load-client';
import type { RequestTemplate } from './load-worker';
import { NOOP_CODE, NOOP_INIT, runtimeHeaders } from './runtime-origin';

export interface ActionLimits {
  memory: number;
  concurrency: number;
}

export interface PhaseContext {
  stack: BenchStack;
  load: LoadGenerator;
  log: (line: string) => void;
  /** `bench-<pid>`: every action and container this run creates is named after it. */
  prefix: string;
  /** Creates (or overwrites) a no-op action; the driver deletes it when the run ends. */
  putAction: (name: string, limits: ActionLimits) => Promise<void>;
}

const AUTH = `Basic ${Buffer.from(GUEST_API_KEY).toString('base64')}`;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The action API, from the bench process: setup only (actions are created and deleted, never timed). */
export async function actionApi(
  stack: BenchStack,
  method: 'PUT' | 'DELETE',
  name: string,
  body?: unknown,
): Promise<number> {
  const response = await request(
    `${stack.url}/api/v1/namespaces/_/actions/${name}${method === 'PUT' ? '?overwrite=true' : ''}`,
    {
      method,
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
  );
  const text = await response.body.text();
  if (response.statusCode >= 300 && !(method === 'DELETE' && response.statusCode === 404))
    throw new Error(`${method} action ${name}: ${response.statusCode} ${text}`);
  return response.statusCode;
}

export const putNoopAction = (stack: BenchStack, name: string, limits: ActionLimits): Promise<number> =>
  actionApi(stack, 'PUT', name, { exec: { kind: NODEJS_RUNTIME_KIND, code: NOOP_CODE }, limits });

/** A blocking invoke of `name` through Gust's API. */
export const invokeTemplate = (name: string): RequestTemplate => ({
  path: `/api/v1/namespaces/_/actions/${name}?blocking=true`,
  headers: { authorization: AUTH, 'content-type': 'application/json' },
  body: '{}',
});

export const RUN_BODY = JSON.stringify({
  value: {},
  namespace: 'guest',
  action_name: '/guest/noop',
  activation_id: '0'.repeat(32),
  deadline: String(Date.now() + 24 * 3600_000),
});

/** The no-op action's /init, as the controller sends it. */
export const INIT_BODY = JSON.stringify(NOOP_INIT);

/** A /run (or the no-op's /init) straight to a container's runtime (with its secret on a unix socket). */
export const directTemplate = (address: string, path: '/init' | '/run' = '/run'): RequestTemplate => ({
  origin: address,
  path,
  headers: { 'content-type': 'application/json', ...runtimeHeaders(address) },
  body: path === '/init' ? INIT_BODY : RUN_BODY,
});

/** Stem cells the controller holds now (unassigned, not revoked, of the given memory). */
export const stemCells = (stack: BenchStack, memoryMB = 256): number =>
  stack.router
    .leased()
    .filter((c) => c.action === null && !c.revoked && c.lease.container.memoryMB === memoryMB).length;

export const containersOf = (stack: BenchStack, name: string): LeasedContainer[] =>
  stack.router.leased().filter((c) => c.action?.name === name && !c.revoked);

/** Polls `condition` every 20 ms; answers false (and says so) once `timeoutMs` has passed. */
export async function waitFor(
  ctx: Pick<PhaseContext, 'log'>,
  what: string,
  condition: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      ctx.log(`  (gave up waiting for ${what} after ${timeoutMs} ms)`);
      return false;
    }
    await sleep(20);
  }
  return true;
}

/** Waits (30 s at most) until the stem cells are back at their target, so no replenishing create competes. */
export const stemCellsAtTarget = (ctx: Pick<PhaseContext, 'stack' | 'log'>): Promise<boolean> =>
  waitFor(
    ctx,
    'stem cells at target',
    () => stemCells(ctx.stack) >= ctx.stack.config.pools.stemCells[0]!.count,
    30_000,
  );

/**
 * Creates a no-op action that takes 32 requests per container, invokes it once and answers the
 * container that served it: the warm container the warm-path and sustained phases measure.
 */
export async function warmAction(
  ctx: PhaseContext,
  name: string,
): Promise<{ container: LeasedContainer; firstMs: number }> {
  await ctx.putAction(name, { memory: 256, concurrency: 32 });
  const first = await ctx.load.run({
    type: 'single',
    origin: ctx.stack.url,
    request: invokeTemplate(name),
    timeoutMs: 60_000,
  });
  if (first.status !== '200') throw new Error(`first invoke of ${name}: ${first.status} ${first.body}`);
  const container = containersOf(ctx.stack, name)[0];
  if (!container) throw new Error(`no leased container for ${name}`);
  return { container, firstMs: first.ms };
}
