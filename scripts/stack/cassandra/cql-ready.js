// Readiness probe for scripts/stack/cassandra.sh: exits 0 once a real CQL query answers.
// Exit 2 means cassandra-driver is not installed yet (npm ci), so the caller can fall back.
'use strict';

let driver;
try {
  driver = require('cassandra-driver');
} catch {
  process.exit(2);
}

const { Client, types } = driver;
const client = new Client({
  // The literal address: 'localhost' would also try ::1, where nothing listens.
  contactPoints: ['127.0.0.1'],
  localDataCenter: 'datacenter1',
  // The driver speaks v4 at most to Apache Cassandra; saying so skips a failed v5 handshake.
  protocolOptions: {
    port: Number(process.env.GUST_CASSANDRA_PORT || 9042),
    maxVersion: types.protocolVersion.v4,
  },
  socketOptions: { connectTimeout: 3000, readTimeout: 5000 },
});

client
  .connect()
  .then(() => client.execute('SELECT release_version FROM system.local'))
  .then((rs) => {
    // The answer the calling shell script reads (stdout), not a log line.
    console.log(rs.first().release_version);
    return client.shutdown().then(() => process.exit(0));
  })
  .catch(() => client.shutdown().finally(() => process.exit(1)));
