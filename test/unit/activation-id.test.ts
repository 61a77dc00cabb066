import { randomUUID } from 'node:crypto';
import { activationIdTime, newActivationId } from '../../common/activation-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const dashed = (id: string): string =>
  `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;

describe('activation ids', () => {
  it("are 32 lowercase hex, OpenWhisk's shape, and a UUIDv7 once dashed; distinct across refills of the entropy pool", () => {
    const ids = Array.from({ length: 2000 }, () => newActivationId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(dashed(id)).toMatch(UUID_V7);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carry the time they were made, to the millisecond, and sort by it', () => {
    const at = Date.UTC(2026, 11, 2, 4, 0, 0, 123);
    expect(activationIdTime(newActivationId(at))).toBe(at);
    expect(activationIdTime(newActivationId(0))).toBe(0);
    const earlier = newActivationId(at);
    const later = newActivationId(at + 1);
    expect(earlier < later).toBe(true);
  });

  it.each([
    ['a random UUID without dashes (OpenWhisk, records written before)', randomUUID().replace(/-/g, '')],
    ['too short', newActivationId().slice(1)],
    ['upper case', newActivationId().toUpperCase()],
    ['not hex', `${newActivationId().slice(0, 31)}g`],
    ['a test fixture', '0'.repeat(31) + '1'],
  ])('answer no time for any other id: %s', (_what, id) => {
    expect(activationIdTime(id)).toBeUndefined();
  });
});
