// The action protocol (docs/reference/openwhisk-contract.md §6.2–6.5), row by row, against the
// Node.js runtime in BOTH backends: a real container on the real dockerd, and a child process. No
// mocks.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { loadConfig } from '../../common/config';
import { LABELS } from '../../common/names';
import type { ContainerInfo } from '../../common/types';
import type { ActivationLogReader, ContainerBackend } from '../../backends/backend';
import { CONTAINER_MESSAGES, describeContainerDeath } from '../../backends/container-errors';
import { DockerBackend } from '../../backends/docker/backend';
import { ProcessBackend } from '../../backends/process/backend';
import { NODEJS_RUNTIME_IMAGE, NODEJS_RUNTIME_KIND } from '../../runtimes/nodejs/runtime-entry';
import { RuntimeClient, type RuntimeCallResult } from '../../runtimes/runtime-client';

jest.setTimeout(120_000);

const OWNER = `test-runtime-protocol-${process.pid}`;
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr): /;
const config = loadConfig();
const client = new RuntimeClient();
let seq = 0;

beforeAll(() => {
  execFileSync('bash', ['runtimes/build-images.sh'], { stdio: 'inherit' });
}, 300_000);

afterAll(async () => {
  await client.closeAll();
});

// ---- tiny archive writers (no deps), to feed /init zip and tar.gz actions ----

function zip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function tarGz(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write('0000644\0', 100);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('0', 156);
    header.write('ustar\x0000', 257);
    header.write('        ', 148);
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

// ---- helpers ----

interface Started {
  container: ContainerInfo;
  logs: ActivationLogReader;
}

async function start(backend: ContainerBackend, env: Record<string, string> = {}): Promise<Started> {
  const container = await backend.create({
    name: `gust_${OWNER}_${backend.name}_${seq++}`,
    image: NODEJS_RUNTIME_IMAGE,
    kind: NODEJS_RUNTIME_KIND,
    memoryMB: 256,
    env,
    labels: { [LABELS.owner]: OWNER },
  });
  return { container, logs: backend.logs(container) };
}

function init(
  started: Started,
  code: string,
  extra: { main?: string; binary?: boolean; env?: Record<string, string> } = {},
) {
  const { main = 'main', binary = false, env } = extra;
  return client.init(started.container.address, { value: { name: 'test', main, code, binary, env } }, 10_000);
}

function run(started: Started, value: unknown = {}, timeoutMs = 10_000, extra: Record<string, string> = {}) {
  return client.run(
    started.container.address,
    {
      value,
      namespace: 'guest',
      action_name: '/guest/test',
      activation_id: '0'.repeat(32),
      deadline: String(Date.now() + timeoutMs),
      ...extra,
    },
    timeoutMs,
  );
}

function reply(result: RuntimeCallResult): { status: number; body: unknown } {
  if (result.outcome !== 'response') throw new Error(`expected a response, got ${JSON.stringify(result)}`);
  let body: unknown;
  try {
    body = JSON.parse(result.text);
  } catch {
    body = undefined;
  }
  return { status: result.status, body };
}

const nextLogs = (started: Started, limitBytes = 10 * 1024 * 1024) =>
  started.logs.next({ limitBytes, waitMs: 5000 });
const texts = (lines: string[]) => lines.map((line) => line.replace(LINE, '$1: '));

// ---- the table, against both backends ----

const backends: [string, () => ContainerBackend][] = [
  [
    'docker',
    () => new DockerBackend({ socketPath: config.agent.dockerSocket, hostId: 'test', capacityMB: 8192 }),
  ],
  ['process', () => new ProcessBackend({ hostId: 'test', warn: false })],
];

describe.each(backends)('the Node.js runtime on the %s backend', (_name, makeBackend) => {
  let backend: ContainerBackend;
  const started: Started[] = [];
  const launch = async (env?: Record<string, string>) => {
    const s = await start(backend, env);
    started.push(s);
    return s;
  };

  beforeAll(() => {
    backend = makeBackend();
  });

  afterAll(async () => {
    for (const s of started) {
      s.logs.close();
      await client.close(s.container.address);
      await backend.destroy(s.container.id);
    }
    expect(await backend.list({ [LABELS.owner]: OWNER, [LABELS.managed]: 'true' })).toEqual([]);
    await backend.close();
  });

  it('inits, runs, and frames the logs of each activation on both streams', async () => {
    const s = await launch();
    const code = `console.log('loading');
      function main(params) { console.log('hello', params.name); console.error('warn', params.name); return { greeting: 'hi ' + params.name }; }`;
    expect(reply(await init(s, code))).toEqual({ status: 200, body: { OK: true } });
    expect(reply(await run(s, { name: 'ann' }))).toEqual({ status: 200, body: { greeting: 'hi ann' } });
    expect(reply(await run(s, { name: 'bob' }))).toEqual({ status: 200, body: { greeting: 'hi bob' } });
    const first = await nextLogs(s);
    for (const line of first) expect(line).toMatch(LINE);
    // Output of a good /init belongs to the first activation (no sentinel after /init).
    expect(texts(first).sort()).toEqual(['stderr: warn ann', 'stdout: hello ann', 'stdout: loading']);
    expect(texts(await nextLogs(s)).sort()).toEqual(['stderr: warn bob', 'stdout: hello bob']);
  });

  it('refuses a second /init', async () => {
    const s = await launch();
    await init(s, 'function main() { return {}; }');
    expect(reply(await init(s, 'function main() { return {}; }'))).toEqual({
      status: 403,
      body: { error: 'Cannot initialize the action more than once.' },
    });
  });

  it('refuses /run before /init', async () => {
    const s = await launch();
    expect(reply(await run(s))).toEqual({ status: 403, body: { error: 'System not initialized.' } });
  });

  it('refuses /init without code', async () => {
    const s = await launch();
    expect(reply(await init(s, ''))).toEqual({
      status: 403,
      body: { error: 'Missing main/no code to execute.' },
    });
  });

  it('stops after code that does not load, and prints the sentinels', async () => {
    const s = await launch();
    const failed = reply(await init(s, 'function main( {'));
    expect(failed.status).toBe(502);
    expect((failed.body as { error: string }).error).toMatch(
      /^Initialization has failed due to: SyntaxError/,
    );
    // As service.js: no main was loaded, so /run says "not initialized"; a new /init sees `stopped`.
    expect(reply(await run(s))).toEqual({ status: 403, body: { error: 'System not initialized.' } });
    expect(reply(await init(s, 'function main() {}'))).toEqual({
      status: 403,
      body: { error: 'System not ready, status is stopped.' },
    });
    expect(texts(await nextLogs(s)).join('\n')).toMatch(/stderr: Error during initialization: .*SyntaxError/);
  });

  it('fails /init when main is not a function', async () => {
    const s = await launch();
    expect(reply(await init(s, 'const main = 42;'))).toEqual({
      status: 502,
      body: { error: "Initialization has failed due to: Action entrypoint 'main' is not a function." },
    });
  });

  it('answers a synchronous throw with 502 and stops', async () => {
    const s = await launch();
    await init(s, "function main() { throw new Error('boom'); }");
    expect(reply(await run(s))).toEqual({
      status: 502,
      body: { error: 'An error has occurred: Error: boom' },
    });
    expect(reply(await run(s))).toEqual({
      status: 403,
      body: { error: 'System not ready, status is stopped.' },
    });
  });

  it('turns rejections into {error} results and stays usable', async () => {
    const s = await launch();
    await init(
      s,
      `async function main(p) {
        if (p.kind === 'error') throw new Error('nope');
        if (p.kind === 'empty') return Promise.reject();
        return Promise.reject('plain');
      }`,
    );
    const error = reply(await run(s, { kind: 'error' }));
    expect(error.status).toBe(200);
    expect(error.body).toMatchObject({ error: { name: 'Error', message: 'nope' } });
    expect(reply(await run(s, { kind: 'empty' }))).toEqual({ status: 200, body: { error: {} } });
    expect(reply(await run(s, { kind: 'plain' }))).toEqual({ status: 200, body: { error: 'plain' } });
  });

  it('classifies results: object, {error}, array, undefined, non-object', async () => {
    const s = await launch();
    await init(
      s,
      `function main(p) {
        switch (p.kind) {
          case 'error': return { error: 'bad input', other: 1 };
          case 'array': return [1, 2];
          case 'undefined': return;
          case 'string': return 'text';
          default: return { ok: true };
        }
      }`,
    );
    expect(reply(await run(s, {}))).toEqual({ status: 200, body: { ok: true } });
    expect(reply(await run(s, { kind: 'error' }))).toEqual({
      status: 200,
      body: { error: 'bad input', other: 1 },
    });
    expect(reply(await run(s, { kind: 'array' }))).toEqual({ status: 200, body: [1, 2] });
    expect(reply(await run(s, { kind: 'undefined' }))).toEqual({ status: 200, body: {} });
    expect(reply(await run(s, { kind: 'string' }))).toEqual({
      status: 502,
      body: { error: 'The action did not return a dictionary.' },
    });
    // A non-object result does not stop the runtime.
    expect(reply(await run(s, {}))).toEqual({ status: 200, body: { ok: true } });
  });

  it('replaces a result over 1 MB with the truncation error', async () => {
    const s = await launch();
    await init(s, "function main() { return { big: 'x'.repeat(2 * 1024 * 1024) }; }");
    const result = await run(s);
    const { status, body } = reply(result);
    expect(status).toBe(200);
    const error = (body as { error: string }).error;
    const expected =
      'The action produced a response that exceeded the allowed length: 2097162 > 1048576 bytes. The truncated response was: {"big":"xxx';
    expect(error.slice(0, expected.length)).toBe(expected);
    expect(result.outcome === 'response' && result.size).toBeLessThanOrEqual(1024 * 1024);
  });

  it('reports a timeout when the caller aborts, and the container is then unusable', async () => {
    const s = await launch();
    await init(
      s,
      'function main() { return new Promise((resolve) => setTimeout(() => resolve({ late: true }), 3000)); }',
    );
    const began = Date.now();
    expect(await run(s, {}, 300)).toEqual({ outcome: 'timeout', timeoutMs: 300 });
    expect(Date.now() - began).toBeLessThan(1000);
    // The aborted run is still going inside: the runtime refuses work until it is destroyed.
    expect(reply(await run(s))).toEqual({
      status: 403,
      body: { error: 'System not ready, status is running.' },
    });
  });

  it('reports a runtime that dies during /run as a connection error and an exit state', async () => {
    const s = await launch();
    await init(s, 'function main() { process.exit(3); }');
    expect(await run(s)).toMatchObject({ outcome: 'connection-error' });
    const state = await backend.state(s.container.id, { awaitExitMs: 5000 });
    expect(state).toEqual({ running: false, exitCode: 3, oomKilled: false });
    expect(describeContainerDeath(state, 'run')).toBe(CONTAINER_MESSAGES.exitedDuringRun);
  });

  it('runs a zip action (package.json main)', async () => {
    const s = await launch();
    const archive = zip({
      'package.json': JSON.stringify({ main: 'lib/entry.js' }),
      'lib/entry.js': "exports.main = (p) => ({ from: 'zip', helper: require('./helper').value, p });",
      'lib/helper.js': 'exports.value = 7;',
    });
    expect(reply(await init(s, archive.toString('base64'), { binary: true }))).toEqual({
      status: 200,
      body: { OK: true },
    });
    expect(reply(await run(s, { a: 1 }))).toEqual({
      status: 200,
      body: { from: 'zip', helper: 7, p: { a: 1 } },
    });
  });

  it('stops decompressing an archive at its size limit (zip and gzip bombs)', async () => {
    const padding = '0'.repeat(4 * 1024 * 1024); // 4 MiB of zeros packs into a few KiB
    const bombs: [Buffer, string][] = [
      [zip({ 'index.js': 'exports.main = () => ({});', 'pad.txt': padding }), 'Zip'],
      [tarGz({ 'index.js': 'exports.main = () => ({});', 'pad.txt': padding }), 'Tar GZ'],
    ];
    for (const [archive, type] of bombs) {
      const s = await launch({ GUST_MAX_ARCHIVE_BYTES: String(1024 * 1024) });
      expect(reply(await init(s, archive.toString('base64'), { binary: true }))).toEqual({
        status: 502,
        body: {
          error: `Initialization has failed due to: There was an error uncompressing the action ${type} archive.`,
        },
      });
    }
  });

  it('runs a tar.gz action (index.js, file.function main)', async () => {
    const s = await launch();
    const archive = tarGz({ 'index.js': "exports.handler = () => ({ from: 'tar.gz' });" });
    expect(reply(await init(s, archive.toString('base64'), { binary: true, main: 'index.handler' }))).toEqual(
      {
        status: 200,
        body: { OK: true },
      },
    );
    expect(reply(await run(s))).toEqual({ status: 200, body: { from: 'tar.gz' } });
  });

  it('copies init env into process.env and sets __OW_* from each run', async () => {
    const s = await launch();
    await init(
      s,
      `function main() {
        const e = process.env;
        return { greeting: e.GREETING, obj: e.OBJ, id: e.__OW_ACTIVATION_ID, ns: e.__OW_NAMESPACE, name: e.__OW_ACTION_NAME,
                 deadline: e.__OW_DEADLINE, key: e.__OW_API_KEY, tid: e.__OW_TRANSACTION_ID };
      }`,
      { env: { GREETING: 'hello', OBJ: JSON.stringify({ a: 1 }) } },
    );
    const { body } = reply(
      await run(s, {}, 10_000, { activation_id: 'a'.repeat(32), api_key: 'u:k', transaction_id: 'tid1' }),
    );
    expect(body).toMatchObject({
      greeting: 'hello',
      obj: '{"a":1}',
      id: 'a'.repeat(32),
      ns: 'guest',
      name: '/guest/test',
      key: 'u:k',
      tid: 'tid1',
    });
    expect(Number((body as { deadline: string }).deadline)).toBeGreaterThan(Date.now());
  });

  describe('init-on-start (the environment names the action: no /init)', () => {
    it('serves /run at once, refuses /init, and keeps the code out of the action environment', async () => {
      const s = await launch({
        __OW_ACTION_CODE: `console.log('loading');
          function hello(p) { console.log('hi', p.who); return { who: p.who, code: process.env.__OW_ACTION_CODE ?? null }; }`,
        __OW_ACTION_MAIN: 'hello',
        __OW_ACTION_BINARY: 'false',
      });
      expect(reply(await run(s, { who: 'ann' }))).toEqual({ status: 200, body: { who: 'ann', code: null } });
      expect(reply(await init(s, 'function main() { return {}; }'))).toEqual({
        status: 403,
        body: { error: 'Cannot initialize the action more than once.' },
      });
      expect(reply(await run(s, { who: 'bob' }))).toEqual({ status: 200, body: { who: 'bob', code: null } });
      // The load's output belongs to the first activation, as after a good /init.
      expect(texts(await nextLogs(s))).toEqual(['stdout: loading', 'stdout: hi ann']);
      // The refused /init says so on stderr, as the official runtime does.
      expect(texts(await nextLogs(s))).toEqual([
        'stderr: Internal system error: Cannot initialize the action more than once.',
        'stdout: hi bob',
      ]);
    });

    it('loads a zip archive (binary) with the default main', async () => {
      const archive = zip({ 'index.js': "exports.main = () => ({ from: 'zip on start' });" });
      const s = await launch({ __OW_ACTION_CODE: archive.toString('base64'), __OW_ACTION_BINARY: 'true' });
      expect(reply(await run(s))).toEqual({ status: 200, body: { from: 'zip on start' } });
    });

    it('answers every /run with the initialisation error when the code does not load', async () => {
      const s = await launch({ __OW_ACTION_CODE: 'function main( {' });
      for (let i = 0; i < 2; i++) {
        const { status, body } = reply(await run(s));
        expect(status).toBe(502);
        expect((body as { error: string }).error).toMatch(/^Initialization has failed due to: SyntaxError/);
      }
      const logs = texts(await nextLogs(s));
      expect(logs.some((line) => line.startsWith('stderr: Error during initialization: SyntaxError'))).toBe(
        true,
      );
    });
  });

  it('serves 100 sequential runs on one container, logs split per activation', async () => {
    const s = await launch();
    await init(
      s,
      "function main(p) { console.log('run', p.i); process.stdout.write('partial ' + p.i); return { i: p.i }; }",
    );
    for (let i = 0; i < 100; i++) expect(reply(await run(s, { i }))).toEqual({ status: 200, body: { i } });
    for (let i = 0; i < 100; i++) {
      expect(texts(await nextLogs(s))).toEqual([`stdout: run ${i}`, `stdout: partial ${i}`]);
    }
  });

  it('truncates an activation over its log limit with the OpenWhisk notice', async () => {
    const s = await launch();
    await init(
      s,
      "function main() { for (let i = 0; i < 100; i++) console.log(String(i).padStart(99, '.')); return {}; }",
    );
    await run(s);
    const lines = await nextLogs(s, 1000);
    // The limit weighs stored lines: 7 × (30-char time + ' stdout: ' + 99 chars, JSON-quoted, + 1) ≤ 1000.
    expect(lines).toHaveLength(8);
    expect(JSON.stringify(lines.slice(0, 7)).length).toBeLessThanOrEqual(1000);
    expect(lines[7]).toMatch(
      /stderr: Logs were truncated because the total bytes size exceeds the limit of 1000 bytes.$/,
    );
  });

  it('overlaps runs only with __OW_ALLOW_CONCURRENT=true', async () => {
    const code =
      'function main(p) { return new Promise((resolve) => setTimeout(() => resolve({ i: p.i }), 300)); }';
    const serial = await launch();
    await init(serial, code);
    // Whichever run arrives first takes the container; the other is refused.
    const replies = (await Promise.all([run(serial, { i: 0 }), run(serial, { i: 1 })])).map(reply);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 403]);
    expect(replies).toContainEqual({ status: 403, body: { error: 'System not ready, status is running.' } });
    expect(replies.find((r) => r.status === 200)?.body).toEqual({ i: expect.any(Number) });

    const concurrent = await launch({ __OW_ALLOW_CONCURRENT: 'true' });
    await init(concurrent, code);
    await run(concurrent, { i: -1 }); // warm the connection pool's first socket
    const began = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => run(concurrent, { i })));
    const elapsed = Date.now() - began;
    results.forEach((result, i) => expect(reply(result)).toEqual({ status: 200, body: { i } }));
    expect(elapsed).toBeLessThan(1500); // serialized would take 10 × 300 ms
  });

  it('lets a stem cell overlap runs only when its /init env allows it (concurrency > 1)', async () => {
    const code =
      'function main(p) { return new Promise((resolve) => setTimeout(() => resolve({ i: p.i }), 300)); }';
    const overlapping = async (env?: Record<string, string>) => {
      const cell = await launch(); // started before any action is known, as a stem cell is
      await init(cell, code, env ? { env } : {});
      const replies = (await Promise.all([run(cell, { i: 0 }), run(cell, { i: 1 })])).map(reply);
      return replies.map((r) => r.status).sort();
    };
    expect(await overlapping()).toEqual([200, 403]);
    expect(await overlapping({ __OW_ALLOW_CONCURRENT: 'true' })).toEqual([200, 200]);
  });
});

describe('the process backend', () => {
  it('initialises on start from a code file (a mounted ConfigMap), which it reads and leaves', async () => {
    const backend = new ProcessBackend({ hostId: 'test', warn: false });
    const dir = mkdtempSync(join(tmpdir(), 'gust-code-'));
    const file = join(dir, 'code');
    writeFileSync(file, "function main(p) { return { big: 'x'.repeat(p.n) }; }");
    try {
      const s = await start(backend, { GUST_ACTION_CODE_FILE: file });
      expect(reply(await run(s, { n: 3 }))).toEqual({ status: 200, body: { big: 'xxx' } });
      expect(existsSync(file)).toBe(true);
      s.logs.close();
      await client.close(s.container.address);
      await backend.destroy(s.container.id);
      // A file that cannot be read is the activation's initialisation error, not a dead runtime.
      const broken = await start(backend, { GUST_ACTION_CODE_FILE: join(dir, 'missing') });
      const { status, body } = reply(await run(broken));
      expect(status).toBe(502);
      expect((body as { error: string }).error).toMatch(/^Initialization has failed due to: Error: ENOENT/);
      broken.logs.close();
      await client.close(broken.container.address);
      await backend.destroy(broken.container.id);
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses images it cannot run, and leaves no child process behind', async () => {
    const backend = new ProcessBackend({ hostId: 'test', warn: false });
    await expect(
      backend.create({
        name: `gust_${OWNER}_bb`,
        image: 'gust/blackbox-echo:test',
        kind: 'blackbox',
        memoryMB: 128,
        env: {},
        labels: {},
      }),
    ).rejects.toThrow(/runs only the Node.js runtime.*use the docker backend/);
    const s = await start(backend);
    const exited = new Promise((resolve) => backend.onEvent(resolve));
    await backend.destroy(s.container.id);
    expect(await exited).toEqual({ type: 'exit', containerId: s.container.id, exitCode: 137 });
    await backend.close();
    // No child of this process runs the runtime any more.
    const children = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
        } catch {
          return false;
        }
      })
      .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('runtimes/nodejs/build/app.js'));
    expect(children).toEqual([]);
  });
});
