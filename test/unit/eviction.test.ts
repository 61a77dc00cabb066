import type { ContainerUsage } from '../../common/types';
import { chooseEvictions, chooseTenantEvictions, MIN_IDLE_MS } from '../../workflows/eviction';

const use = (
  id: string,
  host: string,
  idleMs: number,
  over: Partial<ContainerUsage> = {},
): ContainerUsage => ({
  containerId: id,
  action: { namespace: 'guest', name: id, version: '0.0.1' },
  inFlight: 0,
  idleMs,
  host,
  memoryMB: 256,
  ...over,
});

describe('chooseEvictions: least recently used idle containers on one host', () => {
  test.each<[string, ContainerUsage[], number, Record<string, number>, string | null, string[]]>([
    [
      'the longest idle first',
      [use('a', 'h1', 5000), use('b', 'h1', 9000), use('c', 'h1', 2000)],
      512,
      {},
      'h1',
      ['b', 'a'],
    ],
    ['room the host has counts', [use('a', 'h1', 5000), use('b', 'h1', 9000)], 512, { h1: 256 }, 'h1', ['b']],
    [
      'the host where fewest must go',
      [use('a', 'h1', 9000), use('b', 'h1', 8000), use('c', 'h2', 1500, { memoryMB: 512 })],
      512,
      {},
      'h2',
      ['c'],
    ],
    [
      'busy, just used, stem cells and unknown hosts are never victims',
      [
        use('busy', 'h1', 0, { inFlight: 1 }),
        use('fresh', 'h1', MIN_IDLE_MS - 1),
        use('cell', 'h1', 9000, { action: null }),
        use('old-router', 'h1', 9000, { host: undefined }),
      ],
      256,
      {},
      null,
      [],
    ],
    ['not enough idle anywhere', [use('a', 'h1', 5000), use('b', 'h2', 5000)], 512, {}, null, []],
  ])('%s', (_, usage, neededMB, free, host, victims) => {
    const chosen = chooseEvictions(usage, neededMB, new Map(Object.entries(free)));
    expect(chosen?.hostId ?? null).toBe(host);
    expect((chosen?.victims ?? []).map((v) => v.containerId)).toEqual(victims);
  });
});

describe('chooseTenantEvictions: a tenant at its quota loses its own idle containers, on any host', () => {
  const other = { namespace: 'other', name: 'x', version: '0.0.1' };
  // Quota 512 MB, a new 256 MB container wanted.
  test.each<[string, ContainerUsage[], string[] | null]>([
    [
      'its longest idle first, across hosts, down to the quota',
      [use('a', 'h1', 5000), use('b', 'h2', 9000), use('c', 'h1', 2000)],
      ['b', 'a'],
    ],
    [
      'a package of the tenant is the tenant',
      [
        use('p', 'h1', 5000, { action: { namespace: 'guest/pkg', name: 'p', version: '1' } }),
        use('a', 'h1', 100),
      ],
      ['p'],
    ],
    [
      'never another tenant’s, nor a busy one',
      [
        use('o', 'h1', 9000, { action: other }),
        use('busy', 'h1', 9000, { inFlight: 1 }),
        use('a', 'h1', 5000),
      ],
      ['a'],
    ],
    [
      'its runs of another tenant’s shared action are its own; its action run by another is not (audit L9)',
      [
        use('run-by-other', 'h1', 9000, {
          action: { namespace: 'guest', name: 'x', version: '1', invoker: 'other' },
        }),
        use('shared', 'h1', 5000, { action: { ...other, invoker: 'guest' } }),
        use('a', 'h1', 100),
      ],
      ['shared'],
    ],
    ['never one just used', [use('new', 'h1', MIN_IDLE_MS - 1), use('a', 'h1', 1500)], ['a']],
    [
      'nothing while its revoked containers are still being removed (the routers hold less)',
      [use('a', 'h1', 5000)],
      null,
    ],
    [
      'none when its idle ones cannot free enough (its busy ones hold the quota)',
      [use('a', 'h1', 5000, { inFlight: 1 }), use('b', 'h1', 9000, { inFlight: 2 })],
      null,
    ],
  ])('%s', (_, usage, victims) => {
    const chosen = chooseTenantEvictions(usage, 'guest', 256, 512);
    expect(chosen?.victims.map((v) => v.containerId) ?? null).toEqual(victims);
  });
});
