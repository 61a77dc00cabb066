// `npm test` runs this before the suites: deletes the schedules test runs cut short left behind
// (test/temporal-leftovers.ts), on the Temporal the configuration names (GUST_TEMPORAL_ADDRESS).
//   node scripts/run-ts.js test/sweep-stale-schedules.ts
import { loadConfig } from '../common/config';
import { connectTemporal, createTemporalClient } from '../workers/temporal';
import { sweepStaleTestSchedules } from './temporal-leftovers';

/** No test run lasts this long: an older test schedule's run is over. */
const STALE_AFTER_MS = 2 * 60 * 60_000;

void (async () => {
  const config = loadConfig();
  const connection = await connectTemporal(config);
  try {
    const stale = await sweepStaleTestSchedules(createTemporalClient(connection, config), STALE_AFTER_MS);
    // A line for the CI log's reader (npm test prints it among its steps): plain stdout.
    console.log(`deleted ${stale.length} stale test schedules${stale.length ? `: ${stale.join(', ')}` : ''}`);
  } finally {
    await connection.close();
  }
})();
