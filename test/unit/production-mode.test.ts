// Audit H8–H10: production mode refuses what only development may use, and the production-shaped
// compose stack runs in it with the Temporal UI on loopback and read-only.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../common/config';
import { createAgentBackend } from '../../workers/agent';

const production = (backend: 'docker' | 'process') => {
  const config = loadConfig();
  return {
    ...config,
    controller: { ...config.controller, production: true },
    agent: { ...config.agent, backend },
  };
};

describe('production mode', () => {
  it('refuses the process backend (no isolation)', async () => {
    await expect(createAgentBackend(production('process'))).rejects.toThrow(
      /refusing to start in production.*GUST_BACKEND=process/,
    );
  });

  it('makes npm start refuse the process backend before it starts anything', () => {
    const started = spawnSync('bash', ['scripts/start.sh'], {
      env: { ...process.env, GUST_PRODUCTION: 'true', GUST_BACKEND: 'process' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).not.toBe(0);
    expect(started.stderr).toMatch(/GUST_PRODUCTION=true refuses GUST_BACKEND=process/);
  });

  it('is what the compose stack runs, with the Temporal UI on loopback and read-only', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    expect(compose).toMatch(/^ {4}GUST_PRODUCTION: 'true'$/m);
    expect(compose).toMatch(/^ {4}GUST_KEY_ENCRYPTION_KEY: \$\{GUST_KEY_ENCRYPTION_KEY:\?/m);
    expect(compose).toMatch(/^ {6}TEMPORAL_UI_HOST: \$\{GUST_TEMPORAL_UI_HOST:-127\.0\.0\.1\}$/m);
    expect(compose).toMatch(/^ {6}TEMPORAL_DISABLE_WRITE_ACTIONS: \$\{GUST_TEMPORAL_UI_READ_ONLY:-true\}$/m);
  });
});
