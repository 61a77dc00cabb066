import { LABELS } from '../../common/names';
import type { ContainerSpec } from '../../common/types';
import {
  buildContainerConfig,
  buildForwarderConfig,
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

  it('sets memory = memory-swap, pids, nofile, dropped caps, rotated logs and no network but loopback', () => {
    const config = buildContainerConfig(
      spec,
      { hostId: 'h1', capacityMB: 2048 },
      { mountDir: '/state/runtimes/abc/rt', hostsFile: '/state/runtimes/abc/hosts' },
    );
    expect(config).toEqual({
      Image: 'gust/action-nodejs:20',
      Env: [
        '__OW_API_HOST=http://127.0.0.1:3233',
        'GUST_RUNTIME_SOCKET=/gust/runtime.sock',
        'GUST_RUNTIME_SECRET_FILE=/gust/secret',
      ],
      Labels: {
        [LABELS.action]: 'hello',
        [LABELS.managed]: 'true',
        [LABELS.host]: 'h1',
        [LABELS.kind]: 'nodejs:20',
        [LABELS.memory]: '256',
      },
      // C1 without libnetwork: runc makes the network namespace (loopback only).
      NetworkDisabled: true,
      HostConfig: {
        Memory: 268435456,
        MemorySwap: 268435456,
        CpuShares: 128,
        PidsLimit: 1024,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        // M7: no capability, a read-only root and /tmp in memory (within the memory limit).
        CapDrop: ['ALL'],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=256m,mode=1777' },
        SecurityOpt: ['no-new-privileges'],
        // C1: no interface but loopback, nothing published; the runtime is a socket in a mounted
        // directory, and /etc/hosts names localhost (no libnetwork sandbox writes one).
        NetworkMode: 'none',
        Binds: ['/state/runtimes/abc/rt:/gust', '/state/runtimes/abc/hosts:/etc/hosts:ro'],
        // H2: docker keeps at most 2 × 10 MB of a container's output.
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      },
    });
  });

  it('gives a TCP-only image no mount and a forwarder that shares its network namespace only', () => {
    const blackbox = { ...spec, image: 'someone/box', socketRuntime: false };
    const config = buildContainerConfig(
      blackbox,
      { hostId: 'h1', capacityMB: 2048 },
      { mountDir: '/d/rt', hostsFile: '/d/hosts' },
    ) as {
      Env: string[];
      HostConfig: Record<string, unknown>;
    };
    expect(config.Env).toEqual(['__OW_API_HOST=http://127.0.0.1:3233']);
    expect(config.HostConfig).toMatchObject({ NetworkMode: 'none', Binds: ['/d/hosts:/etc/hosts:ro'] });
    // An image of its own may switch users or write anywhere: Docker's defaults less the risky ones.
    expect(config.HostConfig).toMatchObject({
      CapDrop: ['NET_RAW', 'NET_ADMIN', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SYS_CHROOT'],
    });
    expect(config.HostConfig).not.toHaveProperty('ReadonlyRootfs');
    const forwarder = buildForwarderConfig(
      'c0ffee',
      blackbox,
      { hostId: 'h1', capacityMB: 2048 },
      {
        image: 'gust/action-nodejs:20',
        mountDir: '/d/rt',
      },
    ) as { HostConfig: Record<string, unknown>; Labels: Record<string, string> };
    expect(forwarder.HostConfig).toMatchObject({
      NetworkMode: 'container:c0ffee',
      Binds: ['/d/rt:/gust'],
      CapDrop: ['ALL'],
    });
    expect(forwarder.Labels[LABELS.forwarderOf]).toBe('gust_pool_1');
  });

  it('reads a listed container back into a ContainerInfo addressed by its runtime socket', () => {
    const info = containerInfoFromSummary(
      {
        Id: 'abc',
        Names: ['/gust_pool_1'],
        Created: 1700000000,
        State: 'running',
        Labels: { [LABELS.host]: 'h1', [LABELS.kind]: 'nodejs:20', [LABELS.memory]: '256' },
        Ports: [],
      },
      (name) => `/run/${name}.sock`,
    );
    expect(info).toMatchObject({
      id: 'abc',
      name: 'gust_pool_1',
      host: 'h1',
      backend: 'docker',
      address: 'unix:/run/gust_pool_1.sock',
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
