// The host side of a container's runtime directory (layout: runtimes/runtime-address.ts): made
// before the container, with a fresh random secret, removed after it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RuntimeDir {
  /** The host directory of the container. */
  dir: string;
  /** Mounted into the container (at /gust). */
  mountDir: string;
  socketPath: string;
  secret: string;
}

export function runtimeDirPath(root: string, containerName: string): string {
  return join(root, createHash('sha256').update(containerName).digest('hex').slice(0, 16));
}

/**
 * Makes (or finds, for a retried create) the directory of `containerName` and its secret: the
 * one found there, else `newSecret` (a derived one: agent endpoint), else a random one. The
 * runtime's copy of the secret is written by `handOverSecret`, once per container that starts.
 */
export function prepareRuntimeDir(root: string, containerName: string, newSecret?: string): RuntimeDir {
  const dir = runtimeDirPath(root, containerName);
  const mountDir = join(dir, 'rt');
  mkdirSync(mountDir, { recursive: true, mode: 0o700 });
  const secretFile = join(dir, 'secret');
  let secret: string;
  try {
    secret = readFileSync(secretFile, 'utf8');
  } catch {
    secret = newSecret ?? randomBytes(32).toString('base64url');
    writeFileSync(secretFile, secret, { mode: 0o600 });
  }
  return { dir, mountDir, socketPath: join(mountDir, 'runtime.sock'), secret };
}

/** The runtime's copy, read and deleted by the runtime before any action code loads. */
export function handOverSecret(dir: RuntimeDir): void {
  writeFileSync(join(dir.mountDir, 'secret'), dir.secret, { mode: 0o600 });
}

/** The controller's copy of the secret of `containerName`, undefined when it has no directory here. */
export async function readRuntimeSecret(root: string, containerName: string): Promise<string | undefined> {
  try {
    return await readFile(join(runtimeDirPath(root, containerName), 'secret'), 'utf8');
  } catch {
    return undefined;
  }
}

export function removeRuntimeDir(root: string, containerName: string): void {
  rmSync(runtimeDirPath(root, containerName), { recursive: true, force: true });
}
