// The controller's one logger: pino, which Fastify already uses, created in the composition root
// and passed to every part that reports something (the app, the invoke core, the writer).
// Anything with pino's `(fields, message)` methods fits, so tests can pass a recording one.
import pino from 'pino';

export interface Logger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/**
 * @param level pino level; `silent` turns logging off. Request lines are Fastify's and only
 * appear at `info`, so the default `warn` costs the hot path nothing.
 */
export function createLogger(level: pino.LevelWithSilent = 'warn'): pino.Logger {
  return pino({ level });
}

/** A logger that writes nothing (tests and tools that do not care). */
export const SILENT_LOGGER: Logger = { error() {}, warn() {}, info() {} };
