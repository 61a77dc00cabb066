// `npm test` runs this before the suites: deletes the schedules test runs cut short left behind
// (test/temporal-leftovers.ts).   node scripts/run-ts.js test/sweep-stale-schedules.ts [address]
import { Client, Connection } from '@temporalio/client';
import { sweepStaleTestSchedules } from './temporal-leftovers';

/** No test run lasts this long: an older test schedule's run is over. */
const STALE_AFTER_MS = 2 * 60 * 60_000;

void (async () => {
  const connection = await Connection.connect({ address: process.argv[2] ?? '127.0.0.1:7233' });
  try {
    const stale = await sweepStaleTestSchedules(new Client({ connection }), STALE_AFTER_MS);
    // A line for the CI log's reader (npm test prints it among its steps): plain stdout.
    console.log(`deleted ${stale.length} stale test schedules${stale.length ? `: ${stale.join(', ')}` : ''}`);
  } finally {
    await connection.close();
  }
})();
