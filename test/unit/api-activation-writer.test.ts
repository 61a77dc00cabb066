// ActivationWriter: batching, retry until stored, back-pressure, flush/close. The store is an
// in-memory fake that fails on demand (pure logic under test). Fake time: the writer's flush
// interval, back-offs and close deadline are timers, moved by the tests (test/unit/fake-time.ts).
import { ActivationWriter } from '../../api/activation-writer';
import type { Activation } from '../../common/types';
import { advanceUntilSettled, useFakeTimeInEachTest } from './fake-time';

function record(i: number): Activation {
  return {
    namespace: 'guest',
    name: 'a',
    version: '0.0.1',
    subject: 'guest',
    activationId: i.toString(16).padStart(32, '0'),
    start: i,
    end: i + 1,
    duration: 1,
    statusCode: 0,
    response: { status: 'success', statusCode: 0, success: true, result: {} },
    logs: [],
    annotations: [],
    publish: false,
  };
}

class FakeStore {
  batches: number[] = [];
  stored = new Map<string, Activation>();
  failing = false;
  /** A record this store refuses while it takes others (as Cassandra refuses one too large). */
  refuses: (record: Activation) => boolean = () => false;
  attempts = 0;
  delayMs = 0;
  async putBatch(records: readonly Activation[]): Promise<void> {
    this.attempts += 1;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failing) throw new Error('store unavailable');
    if (records.some(this.refuses)) throw new Error('mutation too large');
    this.batches.push(records.length);
    for (const r of records) this.stored.set(r.activationId, r);
  }
}

describe('ActivationWriter', () => {
  useFakeTimeInEachTest();

  test('a full batch is written at once, in one putBatch', async () => {
    const store = new FakeStore();
    const writer = new ActivationWriter(store, { batchSize: 5, flushIntervalMs: 1_000 });
    for (let i = 0; i < 5; i++) writer.write(record(i));
    await writer.flush();
    expect(store.batches).toEqual([5]);
  });

  test('a partial batch is written after the flush interval', async () => {
    const store = new FakeStore();
    const writer = new ActivationWriter(store, { batchSize: 100, flushIntervalMs: 20 });
    writer.write(record(1));
    writer.write(record(2));
    expect(store.batches).toEqual([]);
    await jest.advanceTimersByTimeAsync(19);
    expect(store.batches).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(store.batches).toEqual([2]);
  });

  test('many records are split into batches of batchSize', async () => {
    const store = new FakeStore();
    const writer = new ActivationWriter(store, { batchSize: 100, flushIntervalMs: 5, concurrency: 2 });
    for (let i = 0; i < 1_050; i++) writer.write(record(i));
    await writer.flush();
    expect(store.stored.size).toBe(1_050);
    expect(Math.max(...store.batches)).toBeLessThanOrEqual(100);
    expect(writer.stats()).toMatchObject({ accepted: 1_050, written: 1_050, pending: 0 });
  });

  test('failed batches are retried with back-off until the store recovers; nothing is lost', async () => {
    const store = new FakeStore();
    const errors: number[] = [];
    const writer = new ActivationWriter(store, {
      batchSize: 10,
      flushIntervalMs: 1,
      retryInitialMs: 5,
      retryMaxMs: 20,
      onWriteError: (_error, attempt) => errors.push(attempt),
    });
    store.failing = true;
    for (let i = 0; i < 35; i++) writer.write(record(i));
    await jest.advanceTimersByTimeAsync(150);
    expect(store.stored.size).toBe(0);
    expect(writer.pending).toBe(35);
    expect(errors.length).toBeGreaterThan(3);
    // Back-off: the attempts in 150 ms are far fewer than a tight loop would make.
    expect(store.attempts).toBeLessThan(60);
    store.failing = false;
    await advanceUntilSettled(writer.flush());
    expect(store.stored.size).toBe(35);
    expect(writer.stats().failedAttempts).toBe(errors.length);
    // An outage is no verdict on any record: all were written whole.
    expect(writer.stats().deadLettered).toBe(0);
    expect([...store.stored.values()].every((r) => r.logs.length === 0)).toBe(true);
  });

  // Audit H3: one record the store refuses must not hold the others back, nor be retried forever.
  const refusing = (refuses: (r: Activation) => boolean) => {
    const store = new FakeStore();
    store.refuses = refuses;
    const dead: string[] = [];
    const writer = new ActivationWriter(store, {
      batchSize: 10,
      flushIntervalMs: 1,
      retryInitialMs: 2,
      retryMaxMs: 10,
      onDeadLetter: (r) => dead.push(r.activationId),
    });
    for (let i = 0; i < 20; i++) {
      const r = record(i);
      if (i === 7) r.logs = ['x'.repeat(1000)];
      writer.write(r);
    }
    return { store, writer, dead };
  };

  test('a record refused while others are written is split out and stored shrunk', async () => {
    const { store, writer, dead } = refusing((r) => r.logs.some((line) => line.length > 500));
    await advanceUntilSettled(writer.flush());
    expect(store.stored.size).toBe(20);
    expect(store.stored.get(record(7).activationId)!.logs).toEqual([
      'The activation record was too large to store: its logs were dropped and its result cut.',
    ]);
    expect(dead).toEqual([]);
    expect(writer.stats()).toMatchObject({ written: 20, pending: 0, deadLettered: 0 });
  });

  test('a record refused even shrunk is dead-lettered, once; the others are stored', async () => {
    const id = record(7).activationId;
    const { store, writer, dead } = refusing((r) => r.activationId === id);
    await advanceUntilSettled(writer.flush());
    expect(store.stored.size).toBe(19);
    expect(dead).toEqual([id]);
    expect(writer.stats()).toMatchObject({ accepted: 20, written: 19, pending: 0, deadLettered: 1 });
  });

  test('over the high-water mark write() returns false and waitForRoom() waits for the store', async () => {
    const store = new FakeStore();
    store.failing = true;
    const writer = new ActivationWriter(store, {
      batchSize: 2,
      highWaterMark: 4,
      flushIntervalMs: 1,
      retryInitialMs: 5,
    });
    expect(writer.write(record(1))).toBe(true);
    expect(writer.write(record(2))).toBe(true);
    expect(writer.write(record(3))).toBe(true);
    expect(writer.write(record(4))).toBe(false);
    expect(writer.saturated).toBe(true);
    // Still accepted, never dropped.
    expect(writer.write(record(5))).toBe(false);
    let roomMade = false;
    const room = writer.waitForRoom().then(() => {
      roomMade = true;
    });
    await jest.advanceTimersByTimeAsync(30);
    expect(roomMade).toBe(false);
    store.failing = false;
    await advanceUntilSettled(room);
    await advanceUntilSettled(writer.flush());
    expect(store.stored.size).toBe(5);
    expect(writer.saturated).toBe(false);
  });

  test('flush() waits for batches already in flight', async () => {
    const store = new FakeStore();
    store.delayMs = 30;
    const writer = new ActivationWriter(store, { batchSize: 3, flushIntervalMs: 1 });
    for (let i = 0; i < 3; i++) writer.write(record(i));
    await jest.advanceTimersByTimeAsync(5);
    expect(store.attempts).toBe(1); // the batch is in the store's hands, not yet stored
    expect(store.stored.size).toBe(0);
    await advanceUntilSettled(writer.flush());
    expect(store.stored.size).toBe(3);
  });

  test('close() flushes, then refuses new records', async () => {
    const store = new FakeStore();
    const writer = new ActivationWriter(store, { batchSize: 50, flushIntervalMs: 1_000 });
    writer.write(record(1));
    await writer.close();
    expect(store.stored.size).toBe(1);
    expect(() => writer.write(record(2))).toThrow('closed');
  });

  test('close() with the store down rejects, naming how many records are unwritten', async () => {
    const store = new FakeStore();
    store.failing = true;
    const writer = new ActivationWriter(store, { batchSize: 50, flushIntervalMs: 1, retryInitialMs: 5 });
    writer.write(record(1));
    writer.write(record(2));
    await expect(advanceUntilSettled(writer.close(50))).rejects.toThrow(
      '2 activation records not yet written',
    );
    store.failing = false;
    await advanceUntilSettled(writer.flush());
    expect(store.stored.size).toBe(2);
  });

  test('constructor options are validated', () => {
    expect(() => new ActivationWriter(new FakeStore(), { batchSize: 0 })).toThrow('batchSize');
  });
});
