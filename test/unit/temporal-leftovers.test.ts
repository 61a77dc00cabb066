// Which schedules and workflows belong to a test scope (test/temporal-leftovers.ts): only those the
// stale sweeps may delete or terminate; a deployment's own (no prefix) never match.
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
  // workflows: pools, hosts, Knative Services, alarm fires, the runs a schedule starts
  ['e2e-56shot-pool/guest/0/0', 'e2e-56shot-'],
  ['cpool1a2b3c-stemcells/nodejs:20/256mb', 'cpool1a2b3c-'],
  ['e2e-56shot-hosts', 'e2e-56shot-'],
  ['e2e-ijq698-knative/guest/noimage', 'e2e-ijq698-'],
  ['e2e-frhvy7-alarm-fire/guest/every2s-2026-12-01T03:28:28Z', 'e2e-frhvy7-'],
  ['cfresh5ofyc5-scale-down-2026-12-01T06:53:43Z', 'cfresh5ofyc5-'],
  ['mesos1a2b3c-mesos-framework', 'mesos1a2b3c-'],
  ['pool/guest/0/0', undefined],
  ['pool/guest/my-pool/x~other', undefined],
  ['stemcells/nodejs:20/256mb', undefined],
  ['hosts', undefined],
  ['knative/guest/noimage', undefined],
  ['alarm-fire/guest/every2s-2026-12-01T03:28:28Z', undefined],
  ['scale-down-2026-12-01T06:53:50Z', undefined],
  ['reconcile-2026-12-01T06:54:00Z', undefined],
  ['mesos-framework', undefined],
  ['evict-idle', undefined],
  ['order-reconcile-42', undefined],
])('%s → %s', (id, scope) => {
  expect(testScopeOf(id)).toBe(scope);
});
