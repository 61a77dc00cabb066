import { ActionPool } from '../../workflows/action-pool-state';
import type { ActionSpec, PoolContainer } from '../../workflows/messages';

const spec: ActionSpec = {
  ref: { namespace: 'guest', name: 'a', version: '0.0.1' },
  kind: 'nodejs:20',
  memoryMB: 256,
  slots: 1,
  updated: 1,
};

const cell = (id: string): PoolContainer => ({
  name: `gust_stemcells_${id}`,
  memoryMB: 256,
  host: 'h1',
  version: null,
  state: 'leased',
  info: {
    id,
    name: `gust_stemcells_${id}`,
    host: 'h1',
    backend: 'docker',
    address: 'unix:/x',
    kind: 'nodejs:20',
    memoryMB: 256,
    labels: {},
    createdAt: 0,
  },
  controllerId: 'c1',
  incarnation: 'i1',
  since: 0,
  leasedAt: 0,
  removal: null,
});

const pool = (): ActionPool =>
  new ActionPool({ scope: { prefix: '' }, namespace: 'guest', name: 'a' }, 'pool/guest/a');
const remember = (): boolean => true;

describe('a failure reported before the stem cell is handed over (audit H6)', () => {
  test.each([
    ['remembered, then the hand-over removes it', remember, 'failed before it was handed over'],
    ['not remembered (histories before the fix): it stays', () => false, null],
  ])('%s', (_, rememberUnknown, reason) => {
    const p = pool();
    p.failed('c-1', 'init failed', rememberUnknown);
    p.adopt({ action: spec, container: cell('c-1') });
    const [adopted] = p.state.containers;
    expect(adopted!.removal?.reason ?? null).toBe(reason);
    expect(p.state.failedBeforeAdopt ?? []).toEqual([]);
  });

  test('a failure of a known container marks it and remembers nothing', () => {
    const p = pool();
    p.adopt({ action: spec, container: cell('c-2') });
    let asked = false;
    p.failed('c-2', 'exited', () => (asked = true));
    expect(p.state.containers[0]!.removal).toEqual({ revoke: false, reason: 'failed: exited' });
    expect(asked).toBe(false);
    expect(p.state.failedBeforeAdopt).toBeUndefined();
  });

  test('other cells are adopted untouched, and the memory is bounded', () => {
    const p = pool();
    for (let i = 0; i < 40; i++) p.failed(`gone-${i}`, 'init failed', remember);
    expect(p.state.failedBeforeAdopt).toHaveLength(32);
    expect(p.state.failedBeforeAdopt![0]).toBe('gone-8');
    p.adopt({ action: spec, container: cell('c-3') });
    expect(p.state.containers[0]!.removal).toBeNull();
  });
});
