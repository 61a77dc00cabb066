import { chooseHost, namespaceMB, type HostRecord } from '../../workflows/placement';

const NOW = 1_000_000;
const TIMEOUT = 30_000;

function host(
  id: string,
  capacityMB: number,
  reservations: [string, number, string][] = [],
  ageMs = 0,
): HostRecord {
  return {
    id,
    capacityMB,
    lastHeartbeat: NOW - ageMs,
    reservations: Object.fromEntries(
      reservations.map(([name, memoryMB, group]) => [name, { memoryMB, group }]),
    ),
  };
}

const rows: {
  name: string;
  hosts: HostRecord[];
  memoryMB: number;
  group: string;
  avoid?: string[];
  want: string | null;
}[] = [
  {
    name: 'places on the only host when it has room',
    hosts: [host('a', 1024)],
    memoryMB: 256,
    group: 'p',
    want: 'a',
  },
  { name: 'returns null when there are no hosts', hosts: [], memoryMB: 256, group: 'p', want: null },
  {
    name: 'never exceeds a host capacity',
    hosts: [host('a', 512, [['c1', 384, 'q']])],
    memoryMB: 256,
    group: 'p',
    want: null,
  },
  {
    name: 'fills a host exactly to its capacity',
    hosts: [host('a', 512, [['c1', 256, 'q']])],
    memoryMB: 256,
    group: 'p',
    want: 'a',
  },
  {
    name: 'bin-packs onto the host with the least memory left',
    hosts: [host('a', 2048), host('b', 2048, [['c1', 1024, 'q']]), host('c', 2048, [['c2', 512, 'r']])],
    memoryMB: 256,
    group: 'p',
    want: 'b',
  },
  {
    name: 'spreads one action across hosts before bin-packing',
    hosts: [
      host('a', 2048, [
        ['c1', 256, 'p'],
        ['c2', 1024, 'q'],
      ]),
      host('b', 2048),
    ],
    memoryMB: 256,
    group: 'p',
    want: 'b',
  },
  {
    name: 'falls back to a host already running the action when the others are full',
    hosts: [host('a', 2048, [['c1', 256, 'p']]), host('b', 256, [['c2', 256, 'q']])],
    memoryMB: 256,
    group: 'p',
    want: 'a',
  },
  {
    name: 'skips a host whose heartbeat is older than the timeout',
    hosts: [host('a', 2048, [], TIMEOUT + 1), host('b', 4096)],
    memoryMB: 256,
    group: 'p',
    want: 'b',
  },
  {
    name: 'keeps a host whose heartbeat is exactly at the timeout',
    hosts: [host('a', 2048, [], TIMEOUT)],
    memoryMB: 256,
    group: 'p',
    want: 'a',
  },
  {
    name: 'skips hosts the caller asks to avoid',
    hosts: [host('a', 2048, [['c1', 1024, 'q']]), host('b', 2048)],
    memoryMB: 256,
    group: 'p',
    avoid: ['a'],
    want: 'b',
  },
  {
    name: 'breaks ties on host id',
    hosts: [host('b', 1024), host('a', 1024)],
    memoryMB: 256,
    group: 'p',
    want: 'a',
  },
];

describe('chooseHost', () => {
  it.each(rows)('$name', ({ hosts, memoryMB, group, avoid, want }) => {
    expect(chooseHost(hosts, { memoryMB, group, avoid }, NOW, TIMEOUT)).toBe(want);
  });
});

test("namespaceMB adds up one tenant's reservations on every host, nobody else's", () => {
  const withTenant = (h: HostRecord, tenants: Record<string, string>): HostRecord => {
    for (const [name, namespace] of Object.entries(tenants)) h.reservations[name]!.namespace = namespace;
    return h;
  };
  const hosts = [
    withTenant(
      host('a', 1024, [
        ['c1', 256, 'p'],
        ['c2', 512, 'q'],
        ['s', 256, 'stem'],
      ]),
      { c1: 'guest', c2: 'other' },
    ),
    withTenant(host('b', 1024, [['c3', 128, 'p']]), { c3: 'guest' }),
  ];
  expect([namespaceMB(hosts, 'guest'), namespaceMB(hosts, 'other'), namespaceMB(hosts, 'none')]).toEqual([
    384, 512, 0,
  ]);
});
