import { LABELS } from '../../common/names';
import type { ContainerSpec } from '../../common/types';
import {
  buildContainerConfig,
  containerInfoFromSummary,
  cpuShares,
  labelFilters,
} from '../../backends/docker/spec';
import { describeContainerDeath, CONTAINER_MESSAGES } from '../../backends/container-errors';

const spec: ContainerSpec = {
  name: 'gust_pool_1',
  image: 'gust/action-nodejs:20',
  kind: 'nodejs:20',
  memoryMB: 256,
  env: { __OW_API_HOST: 'http://127.0.0.1:3233' },
  labels: { [LABELS.action]: 'hello' },
};

describe('docker container spec', () => {
  it.each([
    [256, 2048, 128],
    [128, 8192, 16],
    [128, 1_000_000, 2],
  ])('gives %i MB of a %i MB host %i CPU shares (OpenWhisk, at least 2)', (memory, capacity, shares) => {
    expect(cpuShares(memory, capacity)).toBe(shares);
  });

  it('sets memory = memory-swap, pids, nofile, dropped caps and a 127.0.0.1 ephemeral port', () => {
    const config = buildContainerConfig(spec, { hostId: 'h1', capacityMB: 2048 });
    expect(config).toEqual({
      Image: 'gust/action-nodejs:20',
      Env: ['__OW_API_HOST=http://127.0.0.1:3233'],
      Labels: {
        [LABELS.action]: 'hello',
        [LABELS.managed]: 'true',
        [LABELS.host]: 'h1',
        [LABELS.kind]: 'nodejs:20',
        [LABELS.memory]: '256',
      },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: {
        Memory: 268435456,
        MemorySwap: 268435456,
        CpuShares: 128,
        PidsLimit: 1024,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        CapDrop: ['NET_RAW', 'NET_ADMIN'],
        NetworkMode: 'bridge',
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        LogConfig: { Type: 'json-file', Config: {} },
      },
    });
  });

  it('reads a listed container back into a ContainerInfo', () => {
    const info = containerInfoFromSummary({
      Id: 'abc',
      Names: ['/gust_pool_1'],
      Created: 1700000000,
      State: 'running',
      Labels: { [LABELS.host]: 'h1', [LABELS.kind]: 'nodejs:20', [LABELS.memory]: '256' },
      Ports: [{ IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 49153, Type: 'tcp' }],
    });
    expect(info).toMatchObject({
      id: 'abc',
      name: 'gust_pool_1',
      host: 'h1',
      backend: 'docker',
      address: 'http://127.0.0.1:49153',
      kind: 'nodejs:20',
      memoryMB: 256,
      createdAt: 1700000000000,
    });
  });

  it('turns labels into docker label filters', () => {
    expect(labelFilters({ a: 'b', c: 'd' })).toEqual(['a=b', 'c=d']);
  });
});

describe('container death', () => {
  it.each([
    [{ running: false, exitCode: 137, oomKilled: true }, 'run', CONTAINER_MESSAGES.memoryExhausted],
    [{ running: false, exitCode: 137, oomKilled: true }, 'init', CONTAINER_MESSAGES.memoryExhausted],
    [{ running: false, exitCode: 1, oomKilled: false }, 'run', CONTAINER_MESSAGES.exitedDuringRun],
    [null, 'init', CONTAINER_MESSAGES.exitedDuringInit],
  ] as const)('%j during %s reads "%s"', (state, phase, message) => {
    expect(describeContainerDeath(state, phase)).toBe(message);
  });
});
