// Gust's one logger: pino, which Fastify already uses, created in each composition root (npm
// start's workers/embedded.ts, or a worker process's entry point) and passed to every part that
// reports something: the app and its request lines, the invoke core, the activation writer, the
// Temporal workers' heartbeats, and the Temporal SDK itself (`temporalLogger`, for Runtime.install).
// Anything with pino's `(fields, message)` methods fits, so tests can pass a recording one.
// Nothing else writes to the console, except what is meant for a human at a terminal (the CLIs'
// results, `npm start`'s banner) and what the action runtimes write inside a container (that is
// the activation's log stream, OpenWhisk's protocol).
import type { LogLevel as TemporalLogLevel, Logger as TemporalLogger, LogMetadata } from '@temporalio/common';
import pino from 'pino';

export interface Logger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/**
 * @param level pino level; `silent` turns logging off. Request lines (api/request-log.ts) are
 * written at `info`, the configured default (GUST_LOG_LEVEL).
 */
export function createLogger(level: pino.LevelWithSilent = 'warn'): pino.Logger {
  return pino({ level });
}

/**
 * `log` for a chatty source, never more verbose than `level` (and as quiet as `log` when that is
 * quieter): the workflow bundler's `info` lines are webpack's build report.
 */
export function noMoreVerboseThan(log: pino.Logger, level: pino.Level): pino.Logger {
  return log.child({}, { level: log.levelVal >= log.levels.values[level]! ? log.level : level });
}

/** A logger that writes nothing (tests and tools that do not care). */
export const SILENT_LOGGER: Logger = { error() {}, warn() {}, info() {} };

const PINO_LEVEL: Record<TemporalLogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal SDK's logger interface over pino (workers, workflow `log`, activity `log`). */
export function temporalLogger(log: pino.Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata): void => {
    log[PINO_LEVEL[level]]({ temporal: true, ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
