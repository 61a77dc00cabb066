// The one logger (common/logger.ts): a chatty source's cap never makes the process's log louder.
import { createLogger, noMoreVerboseThan, temporalLogger } from '../../common/logger';

describe('noMoreVerboseThan', () => {
  test.each([
    // process level, cap, the source's level
    ['info', 'warn', 'warn'],
    ['debug', 'warn', 'warn'],
    ['warn', 'warn', 'warn'],
    ['error', 'warn', 'error'],
    ['silent', 'warn', 'silent'],
  ] as const)('a %s process capped at %s logs the source at %s', (level, cap, expected) => {
    const log = createLogger(level);
    expect(noMoreVerboseThan(log, cap).level).toBe(expected);
    expect(log.level).toBe(level);
  });
});

describe('temporalLogger', () => {
  test("writes the SDK's lines at their level, marked as Temporal's, through the process's logger", () => {
    const log = createLogger('warn');
    const written: Array<[string, unknown, string]> = [];
    for (const level of ['info', 'warn', 'error'] as const)
      log[level] = ((fields: unknown, message: string) => written.push([level, fields, message])) as never;
    const sdk = temporalLogger(log);
    sdk.warn('worker slow', { taskQueue: 'q' });
    sdk.error('worker failed');
    sdk.info('worker started');
    expect(written).toEqual([
      ['warn', { temporal: true, taskQueue: 'q' }, 'worker slow'],
      ['error', { temporal: true }, 'worker failed'],
      ['info', { temporal: true }, 'worker started'],
    ]);
  });
});
