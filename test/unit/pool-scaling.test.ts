import { chooseIdleVictims, containersToAdd, containersForLoad } from '../../workflows/scaling';
import type { ContainerUsage } from '../../common/types';

describe('containersToAdd', () => {
  const rows = [
    {
      name: 'adds nothing when free capacity covers the queue',
      queued: 2,
      capacity: 2,
      slots: 1,
      creating: 0,
      total: 2,
      max: 10,
      want: 0,
    },
    {
      name: 'adds one container per queued request with one slot each',
      queued: 3,
      capacity: 0,
      slots: 1,
      creating: 0,
      total: 0,
      max: 10,
      want: 3,
    },
    {
      name: 'packs queued requests into containers with several slots',
      queued: 5,
      capacity: 0,
      slots: 4,
      creating: 0,
      total: 0,
      max: 10,
      want: 2,
    },
    {
      name: 'counts containers already being created for the controller',
      queued: 3,
      capacity: 0,
      slots: 1,
      creating: 2,
      total: 2,
      max: 10,
      want: 1,
    },
    {
      name: 'never grows the pool past its maximum',
      queued: 9,
      capacity: 0,
      slots: 1,
      creating: 0,
      total: 8,
      max: 10,
      want: 2,
    },
    {
      name: 'adds nothing when nothing is queued',
      queued: 0,
      capacity: 0,
      slots: 1,
      creating: 0,
      total: 0,
      max: 10,
      want: 0,
    },
  ];
  it.each(rows)('$name', ({ queued, capacity, slots, creating, total, max, want }) => {
    expect(
      containersToAdd({
        demand: { controllerId: 'c', queued, capacity, inFlight: 0 },
        slotsPerContainer: slots,
        creatingForController: creating,
        currentTotal: total,
        maxTotal: max,
      }),
    ).toBe(want);
  });
});

describe('chooseIdleVictims', () => {
  const u = (containerId: string, idleMs: number, inFlight = 0): ContainerUsage => ({
    containerId,
    idleMs,
    inFlight,
    action: null,
  });
  const leased = (...ids: string[]) => ids.map((containerId) => ({ containerId, leased: true }));
  const rows = [
    {
      name: 'removes a container idle past the keep-alive',
      containers: leased('a'),
      usage: [u('a', 1000)],
      min: 0,
      want: ['a'],
    },
    {
      name: 'keeps a container idle for less than the keep-alive',
      containers: leased('a'),
      usage: [u('a', 999)],
      min: 0,
      want: [],
    },
    {
      name: 'keeps a busy container however long it has been idle',
      containers: leased('a'),
      usage: [u('a', 5000, 1)],
      min: 0,
      want: [],
    },
    {
      name: 'keeps the per-action minimum, removing the longest idle first',
      containers: leased('a', 'b', 'c'),
      usage: [u('a', 2000), u('b', 3000), u('c', 1500)],
      min: 2,
      want: ['b'],
    },
    {
      name: 'ignores usage of containers the pool does not hold leased',
      containers: [{ containerId: 'a', leased: false }],
      usage: [u('a', 5000)],
      min: 0,
      want: [],
    },
    {
      name: 'keeps a container the routers did not report',
      containers: leased('a', 'b'),
      usage: [u('a', 5000)],
      min: 0,
      want: ['a'],
    },
  ];
  it.each(rows)('$name', ({ containers, usage, min, want }) => {
    expect(chooseIdleVictims(containers, usage, 1000, min)).toEqual(want);
  });
});

describe('containersForLoad (Little’s law)', () => {
  it.each([
    [
      'one container before any duration is known',
      { arrivalsPerSecond: 400, meanRunMs: undefined, queued: 300 },
      1,
      1,
    ],
    [
      '400 req/s of 2 ms runs need 2 one-slot containers, not one per queued request',
      { arrivalsPerSecond: 400, meanRunMs: 2, queued: 300 },
      1,
      2,
    ],
    [
      '400 req/s of 100 ms runs need 58 one-slot containers at 70% utilisation',
      { arrivalsPerSecond: 400, meanRunMs: 100, queued: 10 },
      1,
      58,
    ],
    ['slots per container divide the need', { arrivalsPerSecond: 400, meanRunMs: 100, queued: 10 }, 10, 6],
    [
      'a trickle needs one container while requests wait',
      { arrivalsPerSecond: 1, meanRunMs: 1, queued: 1 },
      1,
      1,
    ],
    ['no load and no queue needs none', { arrivalsPerSecond: 0, meanRunMs: 5, queued: 0 }, 1, 0],
  ])('%s', (_name, load, slots, want) => {
    expect(containersForLoad(load, slots)).toBe(want);
  });
});
