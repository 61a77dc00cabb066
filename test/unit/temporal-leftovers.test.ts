// Which schedules belong to a test scope (test/temporal-leftovers.ts): only those the stale sweep
// may delete; a deployment's own (no prefix) never match.
import { testScopeOf } from '../temporal-leftovers';

test.each([
  ['cpool1a2b3c-scale-down', 'cpool1a2b3c-'],
  ['cfreshx1y2z3-reconcile', 'cfreshx1y2z3-'],
  ['e2e-ab12cd-alarm/guest/every2s', 'e2e-ab12cd-'],
  ['e2e-ab12cd-alarm/purge1/yearly-scale-down', 'e2e-ab12cd-'],
  ['scale-down', undefined],
  ['reconcile', undefined],
  ['alarm/guest/every2s', undefined],
  ['alarm/guest/x-reconcile', undefined],
  ['alarm/guest/nightly-scale-down', undefined],
  ['someone-elses-schedule', undefined],
])('%s → %s', (id, scope) => {
  expect(testScopeOf(id)).toBe(scope);
});
