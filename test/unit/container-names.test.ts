// Audit M2: two pools must never name a container alike. `containerName` (kept for runs recorded
// before the patch) gave `pool/alice/corp/act` and `pool/alice@corp/act` one name; the names
// action pools use now (`distinctContainerName`) keep every owner apart and stay Docker names.
import { containerName, distinctContainerName } from '../../common/names';

const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

test.each([
  ['a package and a namespace with @', 'pool/alice/corp/act', 'pool/alice@corp/act'],
  ['an underscore and a slash', 'pool/a_b/c', 'pool/a/b/c'],
  ['a space and an ampersand', 'pool/guest/a b', 'pool/guest/a&b'],
  [
    'long owners that differ only at the end',
    `pool/guest/${'x'.repeat(200)}1`,
    `pool/guest/${'x'.repeat(200)}2`,
  ],
])('%s get distinct names (the old ones collided)', (_, a, b) => {
  expect(containerName(a, 0)).toBe(containerName(b, 0));
  expect(distinctContainerName(a, 0)).not.toBe(distinctContainerName(b, 0));
  for (const owner of [a, b]) {
    expect(distinctContainerName(owner, 7)).toMatch(DOCKER_NAME);
    expect(distinctContainerName(owner, 7).length).toBeLessThanOrEqual(5 + 100 + 1 + 1);
  }
});

test('a sequence number never makes one owner’s name another’s', () => {
  // Split at the last `_`: what precedes is the escaped owner, whose own `_` always start an escape.
  expect(distinctContainerName('pool/a', 12)).not.toBe(distinctContainerName('pool/a_1', 2));
  expect(distinctContainerName('pool/guest/hello', 3)).toBe('gust_pool_002fguest_002fhello_3');
});
