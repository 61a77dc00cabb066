import { ACTIVATION_LOG_SENTINEL as RUNTIME_SENTINEL } from '../../runtimes/nodejs/src/action-service';
import {
  ACTIVATION_LOG_SENTINEL,
  ActivationLogCollector,
  formatLogLine,
  LOG_NOTICES,
} from '../../backends/logs/activation-log-collector';
import { QueuedActivationLogReader } from '../../backends/logs/activation-log-reader';
import type { LogCollectOptions } from '../../backends/backend';
import { advanceUntilSettled, useFakeTimeInEachTest } from './fake-time';
import { DockerFrameDemuxer } from '../../backends/logs/docker-frame-demuxer';
import { LineAssembler, splitDockerTimestamp } from '../../backends/logs/line-assembler';
import type { LogLine, LogStream } from '../../backends/logs/log-line';

const T = '2016-02-11T16:46:56.842065025Z';
const S = ACTIVATION_LOG_SENTINEL;

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const line = (stream: LogStream, text: string): LogLine => ({ stream, time: T, text });

describe('docker frame demuxer', () => {
  it('splits frames that arrive cut at any byte', () => {
    const stream = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]);
    for (let cut = 1; cut < stream.length; cut++) {
      const demuxer = new DockerFrameDemuxer();
      const frames: string[] = [];
      const onFrame = (s: LogStream, payload: Buffer) => frames.push(`${s}:${payload.toString()}`);
      demuxer.push(stream.subarray(0, cut), onFrame);
      demuxer.push(stream.subarray(cut), onFrame);
      expect(frames).toEqual(['stdout:out one\n', 'stderr:err one\n', 'stdout:out two\n']);
      expect(demuxer.pendingBytes).toBe(0);
    }
  });

  it('ignores stdin frames', () => {
    const frames: string[] = [];
    new DockerFrameDemuxer().push(
      Buffer.concat([frame(1, 'a'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 120])]),
      (s) => frames.push(s),
    );
    expect(frames).toEqual(['stdout']);
  });
});

describe('line assembler', () => {
  it('joins pieces into lines per stream and keeps the first piece time', () => {
    const lines: LogLine[] = [];
    const assembler = new LineAssembler();
    assembler.push('stdout', 'hel', 't1', (l) => lines.push(l));
    assembler.push('stderr', 'oops\n', 't2', (l) => lines.push(l));
    assembler.push('stdout', 'lo\nworld\npart', 't3', (l) => lines.push(l));
    assembler.flush((l) => lines.push(l));
    expect(lines).toEqual([
      { stream: 'stderr', time: 't2', text: 'oops' },
      { stream: 'stdout', time: 't1', text: 'hello' },
      { stream: 'stdout', time: 't3', text: 'world' },
      { stream: 'stdout', time: 't3', text: 'part' },
    ]);
  });

  it('splits the docker timestamp from the text', () => {
    expect(splitDockerTimestamp(`${T} hello world\n`)).toEqual({ time: T, text: 'hello world\n' });
  });
});

describe('activation log collector', () => {
  it('formats lines as OpenWhisk does', () => {
    expect(formatLogLine(T, 'stdout', 'hello bob!')).toBe(`${T} stdout: hello bob!`);
    expect(formatLogLine('2016-02-11T16:46:56.842Z', 'stderr', 'x')).toBe(
      '2016-02-11T16:46:56.842Z       stderr: x',
    );
  });

  it('is complete after both sentinels and never keeps them', () => {
    const collector = new ActivationLogCollector(1000);
    expect(collector.add(line('stdout', 'a'))).toBe('taken');
    expect(collector.add(line('stdout', S))).toBe('taken');
    expect(collector.complete).toBe(false);
    expect(collector.add(line('stdout', 'next activation'))).toBe('deferred');
    expect(collector.add(line('stderr', 'b'))).toBe('taken');
    expect(collector.add(line('stderr', S))).toBe('taken');
    expect(collector.complete).toBe(true);
    expect(collector.finish()).toEqual([`${T} stdout: a`, `${T} stderr: b`]);
  });

  it('keeps text printed without a newline before the sentinel', () => {
    const collector = new ActivationLogCollector(1000);
    collector.add(line('stdout', `no newline${S}`));
    collector.add(line('stderr', S));
    expect(collector.finish()).toEqual([`${T} stdout: no newline`]);
  });

  it('truncates at the byte limit, weighing each line as stored, and appends the notice', () => {
    // A stored line: the formatted line as a JSON string, plus a separator.
    const stored = (text: string) => JSON.stringify(formatLogLine(T, 'stdout', text)).length + 1;
    const limit = stored('1234') + stored('56');
    const collector = new ActivationLogCollector(limit);
    collector.add(line('stdout', '1234'));
    collector.add(line('stdout', '56')); // exactly at the limit
    collector.add(line('stdout', '7')); // over
    collector.add(line('stdout', '8')); // dropped too
    const lines = collector.finish(undefined, new Date(0));
    expect(lines).toEqual([
      `${T} stdout: 1234`,
      `${T} stdout: 56`,
      formatLogLine('1970-01-01T00:00:00.000Z', 'stderr', LOG_NOTICES.truncated(limit)),
    ]);
  });

  it('counts empty lines at their stored size, so the record stays within the limit (audit H3)', () => {
    const collector = new ActivationLogCollector(1000);
    for (let i = 0; i < 10_000; i++) collector.add(line('stdout', ''));
    const lines = collector.finish(undefined, new Date(0));
    expect(lines.length).toBeLessThan(30);
    expect(JSON.stringify(lines.slice(0, -1)).length).toBeLessThanOrEqual(1000);
    expect(lines[lines.length - 1]).toMatch(/Logs were truncated/);
  });

  it('uses the same sentinel as the runtime', () => {
    expect(RUNTIME_SENTINEL).toBe(ACTIVATION_LOG_SENTINEL);
  });
});

describe('queued activation log reader', () => {
  // Its waits (for a sentinel, for a quiet stream) are timers: fake time moves them.
  useFakeTimeInEachTest();
  const next = (reader: QueuedActivationLogReader, options: LogCollectOptions) =>
    advanceUntilSettled(reader.next(options));

  it('hands out activation after activation, carrying early lines of the next one', async () => {
    const reader = new QueuedActivationLogReader();
    for (const l of [
      line('stdout', 'one'),
      line('stdout', S),
      line('stdout', 'two'),
      line('stderr', 'one err'),
      line('stderr', S),
      line('stderr', S),
      line('stdout', S),
    ]) {
      reader.push(l);
    }
    expect(await next(reader, { limitBytes: 1000, waitMs: 100 })).toEqual([
      `${T} stdout: one`,
      `${T} stderr: one err`,
    ]);
    expect(await next(reader, { limitBytes: 1000, waitMs: 100 })).toEqual([`${T} stdout: two`]);
  });

  it('waits for lines that arrive later', async () => {
    const reader = new QueuedActivationLogReader();
    setTimeout(() => {
      reader.push(line('stdout', 'late'));
      reader.push(line('stdout', S));
      reader.push(line('stderr', S));
    }, 20);
    expect(await next(reader, { limitBytes: 1000, waitMs: 2000 })).toEqual([`${T} stdout: late`]);
  });

  it('warns when a sentinel does not come in time', async () => {
    const reader = new QueuedActivationLogReader();
    reader.push(line('stdout', 'x'));
    reader.push(line('stdout', S));
    const lines = await next(reader, { limitBytes: 1000, waitMs: 30 });
    expect(lines[0]).toBe(`${T} stdout: x`);
    expect(lines[1]).toMatch(
      /stderr: There was an issue while collecting your logs. Data might be missing.$/,
    );
  });

  it('without sentinels, returns once the stream is quiet', async () => {
    const reader = new QueuedActivationLogReader();
    reader.push(line('stderr', 'boom'));
    const started = Date.now();
    expect(await next(reader, { limitBytes: 1000, waitMs: 5000, sentinels: false })).toEqual([
      `${T} stderr: boom`,
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('drops lines past the backlog but keeps sentinels and reports truncation', async () => {
    const reader = new QueuedActivationLogReader({ backlogLimitBytes: 150 });
    for (let i = 0; i < 5; i++) reader.push(line('stdout', '0123456789'));
    reader.push(line('stdout', S));
    reader.push(line('stderr', S));
    const lines = await next(reader, { limitBytes: 1000, waitMs: 100 });
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/Logs were truncated/);
  });

  it('bounds a flood of empty lines by their number too (audit H2)', async () => {
    const reader = new QueuedActivationLogReader({ backlogLimitBytes: 10_000 });
    for (let i = 0; i < 100_000; i++) reader.push(line('stdout', ''));
    reader.push(line('stdout', S));
    reader.push(line('stderr', S));
    const lines = await next(reader, { limitBytes: 100 * 1024 * 1024, waitMs: 100 });
    expect(lines.length).toBeLessThan(200);
    expect(lines[lines.length - 1]).toMatch(/Logs were truncated/);
  });
});

describe('line assembler', () => {
  it('passes a line that never ends on in pieces of the longest line it keeps (audit H2)', () => {
    const assembler = new LineAssembler({ maxLineChars: 10 });
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) assembler.push('stdout', 'x'.repeat(7), T, (l) => lines.push(l.text));
    expect(lines).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(10)]);
    assembler.flush((l) => lines.push(l.text));
    expect(lines[3]).toBe('xxxxx');
  });
});
