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
// No forceExit: a test that leaves a handle open is a defect to fix. `npm test` (scripts/test.sh,
// jest_run) fails a jest run that has not exited a minute after writing its results.
module.exports = {
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
