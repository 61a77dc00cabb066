import { isLeaseStale } from '../../workflows/container-ops';
import type { ControllersChanged, PoolContainer } from '../../workflows/messages';
import { leased } from './pool-records';

/** A record leased at 110 by incarnation 002-b of c1, with `over` applied (any state). */
const container = (over: object): PoolContainer =>
  ({ ...leased('x', { since: 100, leasedAt: 110, incarnation: '002-b' }), ...over }) as PoolContainer;
const list = (asOf: number, ...controllers: [string, string][]): ControllersChanged => ({
  asOf,
  controllers: controllers.map(([controllerId, incarnation]) => ({ controllerId, incarnation })),
});

describe('isLeaseStale', () => {
  const rows = [
    {
      name: 'keeps a lease of a live controller incarnation',
      c: {},
      change: list(200, ['c1', '002-b']),
      want: false,
    },
    {
      name: 'reclaims a lease of a controller missing from a newer list',
      c: {},
      change: list(200),
      want: true,
    },
    {
      name: 'keeps a lease granted after the list was made',
      c: { leasedAt: 300 },
      change: list(200),
      want: false,
    },
    {
      name: 'reclaims a lease of an older incarnation once the controller restarted',
      c: { incarnation: '001-a' },
      change: list(50, ['c1', '002-b']),
      want: true,
    },
    {
      name: 'keeps a lease of a newer incarnation than an old list knows',
      c: { incarnation: '003-c' },
      change: list(200, ['c1', '002-b']),
      want: false,
    },
    {
      name: 'keeps a container still being leased to a live controller',
      c: { state: 'creating' as const, incarnation: null, leasedAt: null },
      change: list(200, ['c1', '002-b']),
      want: false,
    },
    {
      name: 'reclaims a container being created for a controller that is gone',
      c: { state: 'creating' as const, incarnation: null, leasedAt: null },
      change: list(200),
      want: true,
    },
    {
      name: 'leaves alone a container already marked for removal',
      c: { removal: { revoke: true, reason: 'idle' } },
      change: list(200),
      want: false,
    },
  ];
  it.each(rows)('$name', ({ c, change, want }) => {
    expect(isLeaseStale(container(c), change)).toBe(want);
  });
});
