// Determinism guard: replays the recorded histories of every control-path workflow against the
// current workflow code. A change that would break running workflows fails here.
// Record with `GUST_RECORD_HISTORIES=1 npx jest test/integration/control- test/integration/eviction.test.ts
// test/e2e/system-catalog-alarms.test.ts --selectProjects integration` (then commit); the Knative
// workflow's with `GUST_RECORD_HISTORIES=1 GUST_E2E_BACKEND=knative npx jest
// test/e2e/openwhisk-parity.test.ts --selectProjects integration`. A new shape is added beside
// the old recordings (a new label), never over them: docs/workflow-upgrades.md.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleControlPathWorkflows, installTemporalRuntime } from '../../workers/temporal';
import * as workflows from '../../workflows';
import { replayFailures } from './control-harness';

jest.setTimeout(120_000);

const DIR = join(__dirname, '..', 'fixtures', 'histories');
/** Every workflow type the provisioner registers (the bundle's exports). */
const WORKFLOW_TYPES = Object.keys(workflows);

test('every workflow type the workers register has a recorded history', () => {
  expect(WORKFLOW_TYPES.length).toBeGreaterThanOrEqual(9);
  const recorded = new Set(readdirSync(DIR).map((f) => f.split('.')[0]));
  expect(WORKFLOW_TYPES.filter((t) => !recorded.has(t))).toEqual([]);
});

test('the recorded histories replay without non-determinism', async () => {
  installTemporalRuntime();
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  const histories = files.map((file) => ({
    workflowId: file,
    // Written by JSON.stringify of the fetched History (protobufjs toJSON), read back with fromObject.
    history: temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(DIR, file), 'utf8'))),
  }));
  expect(await replayFailures(await bundleControlPathWorkflows(), histories)).toEqual([]);
});
