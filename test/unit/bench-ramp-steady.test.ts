import { steadyFrom } from '../../bench/phases/ramp';

const seconds = (...p99s: number[]): { p99: number; failed: number }[] =>
  p99s.map((p99) => ({ p99, failed: 0 }));

describe("the ramp bench's steady state", () => {
  it('begins once the backlog has drained to the settled p99', () => {
    expect(steadyFrom(seconds(900, 400, 120, 8, 6, 7, 5, 6, 5))).toBe(3);
  });

  it('keeps a single-second blip inside the steady state, also in the last second', () => {
    expect(steadyFrom(seconds(600, 50, 5, 6, 40, 5, 6, 5, 4, 37))).toBe(2);
  });

  it('does not begin with a blip', () => {
    expect(steadyFrom(seconds(900, 300, 5, 6, 5, 5))).toBe(2);
    const afterFailure = seconds(5, 300, 5, 6, 5, 5);
    afterFailure[0]!.failed = 1;
    expect(steadyFrom(afterFailure)).toBe(2);
  });

  it('ends a steady state at two seconds above the bound in a row, or a failure', () => {
    expect(steadyFrom(seconds(5, 5, 90, 80, 5, 6, 5, 5, 6))).toBe(4);
    const failed = seconds(5, 5, 5, 5, 5, 5);
    failed[3]!.failed = 1;
    expect(steadyFrom(failed)).toBe(4);
  });

  it('never settles under a standing backlog, however flat its p99', () => {
    expect(steadyFrom(seconds(1300, 5000, 8000, 8100, 8200, 8150, 8100))).toBeNull();
  });
});
