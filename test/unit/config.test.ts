import {
  assertProductionSafe,
  loadConfig,
  parseMinContainers,
  parseStemCells,
  type GustConfig,
} from '../../common/config';
import { actionPoolStartOptions } from '../../workflows/start-options';

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
    const withEnv = (value: string | undefined): number => {
      const before = process.env.GUST_POOL_MAX_CREATING;
      if (value === undefined) delete process.env.GUST_POOL_MAX_CREATING;
      else process.env.GUST_POOL_MAX_CREATING = value;
      try {
        return loadConfig().pools.maxCreatingPerPool;
      } finally {
        if (before === undefined) delete process.env.GUST_POOL_MAX_CREATING;
        else process.env.GUST_POOL_MAX_CREATING = before;
      }
    };
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
