import { DEFAULT_SCOPE, scopedNames } from '../../workflows/scope';

describe('which pool workflows a scope owns', () => {
  const production = scopedNames(DEFAULT_SCOPE);
  const test1 = scopedNames({ prefix: 'cpool1-' });

  it.each([
    ['pool/guest/hello', true, false],
    ['stemcells/nodejs:20/256mb', true, false],
    ['cpool1-pool/guest/hello', false, true],
    ['cpool1-stemcells/nodejs:20/256mb', false, true],
    ['bench-pool/guest/hello', false, false],
    ['hosts', false, false],
    ['mesos-framework', false, false],
  ])('%s: production %s, prefixed %s', (id, byProduction, byPrefixed) => {
    expect(production.ownsWorkflowId(id)).toBe(byProduction);
    expect(test1.ownsWorkflowId(id)).toBe(byPrefixed);
  });
});
