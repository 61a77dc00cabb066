// Turns an /init message into the action's main function, following openwhisk-runtime-nodejs
// runner.js `initializeActionHandler`. Failures reject with the same texts the official runtime uses.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectArchiveType, extractArchive } from './extract-archive';

export type ActionMain = (params: Record<string, unknown>) => unknown;

export interface InitMessage {
  main: string;
  code: string;
  binary?: boolean;
}

function assertMainIsFunction(handler: unknown, name: string): ActionMain {
  if (typeof handler === 'function') return handler as ActionMain;
  throw `Action entrypoint '${name}' is not a function.`;
}

/** Plain code: the body of a function that ends by naming `main`, falling back to module exports. */
function loadPlainCode(message: InitMessage): ActionMain {
  const main = message.main;
  const module = { exports: {} as Record<string, unknown> };
  // The newline ends a trailing `//` comment in the user's code; `new Function` keeps the user's
  // `module`/`exports` apart from this runtime's own.
  const body = `${message.code}
try {
  return ${main};
} catch (e) {
  if (e.name === 'ReferenceError') return module.exports.${main} || exports.${main};
  throw e;
}`;
  const factory = new Function('module', 'exports', 'require', body) as (
    module: { exports: Record<string, unknown> },
    exports: Record<string, unknown>,
    load: NodeJS.Require,
  ) => unknown;
  return assertMainIsFunction(factory(module, module.exports, require), main);
}

/** `file.fn` → ['file', 'fn']; `fn` → [undefined, 'fn'] (runner.js `splitMainHandler`). */
function splitMainHandler(handler: string): [string | undefined, string] | undefined {
  const match = /^([^.]+)$|^([^.]+)\.(.+)$/.exec(handler);
  if (!match) return undefined;
  return [match[2], (match[3] ?? match[1])!];
}

function loadArchive(message: InitMessage): ActionMain {
  const archive = Buffer.from(message.code, 'base64');
  const type = detectArchiveType(archive);
  if (type === 'unsupported')
    throw 'There was an error uncompressing the action archive. The file type is unsupported';
  let moduleDir: string;
  try {
    moduleDir = extractArchive(archive, type);
  } catch {
    throw type === 'zip'
      ? 'There was an error uncompressing the action Zip archive.'
      : 'There was an error uncompressing the action Tar GZ archive.';
  }
  const parts = splitMainHandler(message.main);
  if (parts === undefined) throw 'Name of main function is not valid.';
  const [file, main] = parts;
  process.chdir(moduleDir);
  if (file === undefined && !existsSync('package.json') && !existsSync('index.js')) {
    throw 'Zipped actions must contain either package.json or index.js at the root.';
  }
  // `npm install` at init (OW_ENABLE_INIT_INSTALL) is not supported: the image carries no npm.
  // A synchronous require, as the official runtime does: the action is CommonJS.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  let handler: unknown = require(file === undefined ? moduleDir : join(moduleDir, file));
  for (const key of main.split('.')) handler = (handler as Record<string, unknown> | undefined)?.[key];
  return assertMainIsFunction(handler, message.main);
}

export function loadAction(message: InitMessage): ActionMain {
  return message.binary ? loadArchive(message) : loadPlainCode(message);
}
