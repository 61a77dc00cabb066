import { generateTransactionId, transactionIdFor } from '../../api/transaction-id';

describe('transaction ids', () => {
  it('are 32 characters of [A-Za-z0-9], distinct across refills of the entropy pool', () => {
    const ids = Array.from({ length: 1000 }, () => generateTransactionId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("keep a caller's X-Request-ID unless it is a system id or unreasonable", () => {
    expect(transactionIdFor('my-request-1')).toBe('my-request-1');
    expect(transactionIdFor('sid_invoker')).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(transactionIdFor('x'.repeat(129))).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(transactionIdFor(undefined)).toMatch(/^[A-Za-z0-9]{32}$/);
  });
});
