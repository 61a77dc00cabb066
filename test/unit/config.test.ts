import {
  assertProductionSafe,
  loadConfig,
  parseMinContainers,
  parseStemCells,
  type GustConfig,
} from '../../common/config';
import { actionPoolStartOptions } from '../../workflows/start-options';

/** What `read` finds in the configuration loaded with `name` set to `value` (unset: undefined). */
function readWith<T>(name: string, value: string | undefined, read: (config: GustConfig) => T): T {
  const before = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return read(loadConfig());
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

describe('configuration parsing', () => {
  it('reads stem-cell targets as <kind>:<MB>=<count>', () => {
    expect(parseStemCells('nodejs:20:256=2, nodejs:20:512=1')).toEqual([
      { kind: 'nodejs:20', memoryMB: 256, count: 2 },
      { kind: 'nodejs:20', memoryMB: 512, count: 1 },
    ]);
    expect(parseStemCells('')).toEqual([]);
  });

  it('reads per-action minimums as <namespace>/<action>=<count>, packages included', () => {
    expect(parseMinContainers('guest/hello=2,guest/pkg/echo=1')).toEqual({
      'guest/hello': 2,
      'guest/pkg/echo': 1,
    });
    expect(parseMinContainers('')).toEqual({});
  });

  it("reads a pool's creations at once (2 by default) and starts pools with it", () => {
    const withEnv = (value: string | undefined): number =>
      readWith('GUST_POOL_MAX_CREATING', value, (config) => config.pools.maxCreatingPerPool);
    expect(withEnv(undefined)).toBe(2);
    expect(() => withEnv('0')).toThrow('GUST_POOL_MAX_CREATING must be at least 1');
    const maxCreating = withEnv('8');
    expect(maxCreating).toBe(8);
    const action = {
      ref: { namespace: 'guest', name: 'a', version: '0.0.1' },
      kind: 'nodejs:20',
      memoryMB: 256,
    };
    expect(actionPoolStartOptions({ prefix: '' }, action, { maxCreating }).args[0].maxCreating).toBe(8);
    expect(actionPoolStartOptions({ prefix: '' }, action).args[0]).not.toHaveProperty('maxCreating');
  });

  it("reads the host's CPU bound for creations as a share (0.8 by default)", () => {
    const withEnv = (value: string | undefined): number =>
      readWith('GUST_HOST_CREATE_MAX_CPU', value, (config) => config.agent.createMaxCpu);
    expect(withEnv(undefined)).toBe(0.8);
    expect(withEnv('1')).toBe(1);
    expect(withEnv('0.65')).toBe(0.65);
    expect(() => withEnv('80')).toThrow('GUST_HOST_CREATE_MAX_CPU must be a number from 0 to 1');
    expect(() => withEnv('busy')).toThrow('GUST_HOST_CREATE_MAX_CPU must be a number from 0 to 1');
  });

  it.each([
    ['GUST_STEM_CELLS', () => parseStemCells('nodejs:20:256')],
    ['GUST_MIN_CONTAINERS', () => parseMinContainers('guest/hello')],
  ])('names %s in the error for a malformed entry', (variable, parse) => {
    expect(parse).toThrow(variable);
  });
});

describe('production refuses what only development may use', () => {
  const config = (backend: GustConfig['agent']['backend'], runtimeSecretKey = '') => {
    const base = loadConfig({});
    return {
      controller: { ...base.controller, production: true },
      agent: { ...base.agent, backend, runtimeSecretKey },
    };
  };

  it.each(['mesos', 'knative'] as const)(
    "%s without GUST_RUNTIME_SECRET_KEY: its runtimes' secrets would differ per process",
    (backend) => {
      expect(() => assertProductionSafe(config(backend))).toThrow(/GUST_RUNTIME_SECRET_KEY/);
      expect(() => assertProductionSafe(config(backend, 'a shared key'))).not.toThrow();
    },
  );

  it('the process backend, whatever else is set', () => {
    expect(() => assertProductionSafe(config('process', 'a shared key'))).toThrow(/without any isolation/);
  });

  it('docker and kubernetes need no key (their secrets are files and pod specs)', () => {
    expect(() => assertProductionSafe(config('docker'))).not.toThrow();
    expect(() => assertProductionSafe(config('kubernetes'))).not.toThrow();
  });
});
