// Two projects: `unit` needs nothing running; `integration` (and e2e) expect the dev stack
// that scripts/test.sh brings up (Temporal, Cassandra, dockerd).
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  // @kubernetes/client-node and some of its dependencies ship only ES modules; jest loads CommonJS.
  '^.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
};
const transformIgnorePatterns = [
  '/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|jsonpath-plus|rfc4648)/)',
];
module.exports = {
  // cassandra-driver can keep a socket open after a peer was frozen (the outage test), which
  // would keep jest waiting forever after the last test; CI must end.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      slowTestThreshold: 30,
    },
    {
      // `npm run test:faults`: freezes, kills and restarts parts of the stack; run on its own, in band.
      displayName: 'faults',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};
