// Two projects: `unit` needs nothing running; `integration` (and e2e) expect the dev stack
// that scripts/test.sh brings up (Temporal, Cassandra, dockerd).
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  // cassandra-driver can keep a socket open after a peer was frozen (the outage test), which
  // would keep jest waiting forever after the last test; CI must end.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      slowTestThreshold: 30,
    },
  ],
};
