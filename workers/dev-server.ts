// The Temporal dev server as a child process of `npm start` (the embedded default).
// Flags mirror scripts/stack/temporal.sh; the search attributes come from common/search-attributes.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { GustConfig } from '../common/config';
import { ACTION_ATTR, HOST_ATTR, KIND_ATTR, NAMESPACE_ATTR } from '../common/search-attributes';

export interface DevServer {
  /** Undefined when a server was already answering at the configured address. */
  child?: ChildProcess;
  stop(): Promise<void>;
}

const SEARCH_ATTRIBUTES = [NAMESPACE_ATTR, ACTION_ATTR, KIND_ATTR, HOST_ATTR];

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/** Starts `temporal server start-dev` unless a server already answers; waits until it serves. */
export async function startDevServer(
  config: GustConfig,
  cli: string,
  timeoutMs = 60_000,
): Promise<DevServer> {
  const { address, uiPort } = config.temporal;
  if (await answers(address)) return { stop: async () => undefined };
  if (!existsSync(cli))
    throw new Error(`Temporal CLI not found at ${cli}: run 'npm run stack -- start temporal' once`);
  const [ip, port] = address.split(':');
  const dir = join(config.stateDir, 'temporal');
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'temporal.log'), 'a');
  const args = [
    'server', 'start-dev',
    '--ip', ip ?? '127.0.0.1',
    '--port', port ?? '7233',
    '--ui-port', String(uiPort),
    '--db-filename', join(dir, 'temporal.db'),
    ...['enableServerVersionCheck=false', 'enableExecuteMultiOperation=true', 'enableUpdateWorkflowExecution=true',
      'enableUpdateWorkflowExecutionAsyncAccepted=true'].flatMap((v) => ['--dynamic-config-value', `frontend.${v}`]),
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${key.type}`]),
  ]; // prettier-ignore
  const child = spawn(cli, args, { stdio: ['ignore', log, log] });
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(address))) {
    if (exited) throw new Error(`Temporal dev server exited during start; see ${join(dir, 'temporal.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server did not answer at ${address} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
