// RecordIO framing of the Mesos scheduler event stream (backends/mesos/recordio.ts).
import { RecordIODecoder, RecordIOError, encodeRecord } from '../../backends/mesos/recordio';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const texts = (records: Uint8Array[]): string[] => records.map((r) => new TextDecoder().decode(r));

describe('RecordIO', () => {
  test('a record is its byte length, a newline and the bytes', () => {
    expect(new TextDecoder().decode(encodeRecord('{"type":"HEARTBEAT"}'))).toBe('20\n{"type":"HEARTBEAT"}');
    expect(encodeRecord('é').length).toBe('2\n'.length + 2);
  });

  test('records in one chunk come out in order', () => {
    const decoder = new RecordIODecoder();
    expect(texts(decoder.push(bytes('3\nabc5\nhello1\nx')))).toEqual(['abc', 'hello', 'x']);
    expect(decoder.atRecordBoundary).toBe(true);
  });

  test.each([
    ['split inside the length', ['1', '3\n{"a":"12345"}']],
    ['split right after the newline', ['13\n', '{"a":"12345"}']],
    ['split inside the data', ['13\n{"a":', '"12345"}']],
    ['one byte at a time', '13\n{"a":"12345"}'.split('')],
  ])('a record %s is reassembled', (_name, chunks) => {
    const decoder = new RecordIODecoder();
    const out = chunks.flatMap((c) => texts(decoder.push(bytes(c))));
    expect(out).toEqual(['{"a":"12345"}']);
    expect(decoder.atRecordBoundary).toBe(true);
  });

  test('lengths count bytes, not characters: a multi-byte character split across chunks survives', () => {
    const record = encodeRecord('{"m":"héllo ✓"}');
    const decoder = new RecordIODecoder();
    const out = [...decoder.push(record.subarray(0, 9)), ...decoder.push(record.subarray(9))];
    expect(texts(out)).toEqual(['{"m":"héllo ✓"}']);
  });

  test('a stream cut inside a record is not at a record boundary', () => {
    const decoder = new RecordIODecoder();
    decoder.push(bytes('10\nabc'));
    expect(decoder.atRecordBoundary).toBe(false);
  });

  test.each([
    ['a header that is not a number', 'abc\n{}'],
    ['a zero length', '0\n'],
    ['a length over the limit', '2000\n'],
    ['a header line that never ends', '1'.repeat(25)],
  ])('%s is refused', (_name, input) => {
    const decoder = new RecordIODecoder({ maxRecordBytes: 1000 });
    expect(() => decoder.push(bytes(input))).toThrow(RecordIOError);
  });
});
