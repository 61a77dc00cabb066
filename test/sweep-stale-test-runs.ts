// `npm test` runs this before the suites: deletes the schedules and terminates the workflows that
// test runs cut short left behind (test/temporal-leftovers.ts), on the Temporal the configuration
// names (GUST_TEMPORAL_ADDRESS).
//   node scripts/run-ts.js test/sweep-stale-test-runs.ts
import { loadConfig } from '../common/config';
import { connectTemporal, createTemporalClient } from '../workers/temporal';
import { sweepStaleTestSchedules, sweepStaleTestWorkflows } from './temporal-leftovers';

/** No test run lasts this long: an older test schedule's or workflow's run is over. */
const STALE_AFTER_MS = 2 * 60 * 60_000;

void (async () => {
  const config = loadConfig();
  const connection = await connectTemporal(config);
  try {
    const client = createTemporalClient(connection, config);
    const stale = await sweepStaleTestSchedules(client, STALE_AFTER_MS);
    // Lines for the CI log's reader (npm test prints them among its steps): plain stdout.
    console.log(`deleted ${stale.length} stale test schedules${stale.length ? `: ${stale.join(', ')}` : ''}`);
    const terminated = await sweepStaleTestWorkflows(client, STALE_AFTER_MS);
    console.log(`terminated ${terminated} stale test workflows`);
  } finally {
    await connection.close();
  }
})();
