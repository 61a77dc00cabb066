// Fuzzes the REST API from its own OpenAPI description (GET /api/v1/api-docs) with schemathesis,
// against a whole Gust (docker backend, Temporal from the dev stack, SQLite store) on 127.0.0.1.
// Run by scripts/fuzz-api.sh, which installs schemathesis; usage:
//   node scripts/run-ts.js test/fuzz/fuzz-api.ts <schemathesis binary> <min requests> <max examples>
// Passes when schemathesis sent at least <min requests> requests, none was answered with a server
// error (a 5xx other than OpenWhisk's 502 for an action developer error), the controller still
// answers afterwards, and every activation the API handed out is in the store.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGust, type GustUnderTest } from '../e2e/harness';

interface HarEntry {
  request: { method: string; url: string; postData?: { text?: string } };
  response: { status: number; content?: { text?: string } };
}

/**
 * Runs `command` in `cwd` (schemathesis keeps its cache there), its output to the terminal when
 * there is one, else into `outputFile`: schemathesis closes with a pytest-style line ("== 4 warnings
 * in 17.5s ==") that a CI log reader takes for a test run that ran nothing, so a log gets its output
 * only when the fuzz fails.
 */
function run(command: string, args: string[], cwd: string, outputFile: string): Promise<number> {
  const output = process.stdout.isTTY ? 'inherit' : openSync(outputFile, 'w');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', output, output], cwd });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  }).finally(() => {
    if (typeof output === 'number') closeSync(output);
  });
}

/** schemathesis's own count of test cases ("1533 generated, 1533 passed"), from its output. */
function testCasesOf(output: string): string {
  const lines = output.split('\n');
  const heading = lines.findIndex((line) => line.trim() === 'Test cases:');
  return heading >= 0 ? (lines[heading + 1]?.trim() ?? '') : 'not reported';
}

function parse(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** OpenWhisk answers a blocking invoke whose action failed with 502 and the activation record. */
function isDeveloperError(entry: HarEntry): boolean {
  const body = parse(entry.response.content?.text) as { response?: { status?: string } } | undefined;
  return entry.response.status === 502 && body?.response?.status === 'action developer error';
}

/** Whether the record of `id` can be read back; records are written after the reply, so wait a while. */
async function recorded(apihost: string, apiKey: string, id: string): Promise<boolean> {
  const authorization = `Basic ${Buffer.from(apiKey).toString('base64')}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${apihost}/api/v1/namespaces/_/activations/${id}`, {
      headers: { authorization },
    });
    if (response.status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/**
 * Actions under the names the fuzzer generates most (`0`, `0/0`), so that some of its invokes run
 * one and the activation check has records to look for; a fuzzed DELETE may remove them later.
 */
async function seedActions(ow: ReturnType<GustUnderTest['client']>): Promise<void> {
  await ow.packages.update({ name: '0' });
  for (const name of ['0', '0/0'])
    await ow.actions.update({ name, kind: 'nodejs:20', action: 'function main(p) { return { echo: p }; }' });
}

async function main(): Promise<void> {
  const [schemathesis, minRequestsArg, maxExamplesArg] = process.argv.slice(2);
  if (!schemathesis) throw new Error('usage: fuzz-api.ts <schemathesis> <min requests> <max examples>');
  const minRequests = Number(minRequestsArg ?? 10_000);
  const reportDir = mkdtempSync(join(tmpdir(), 'gust-fuzz-'));
  const har = join(reportDir, 'requests.har');
  const outputFile = join(reportDir, 'schemathesis.log');
  // Each fuzzed action that gets invoked needs a container: the throttle keeps that to a few dozen.
  const gust = await startGust({ store: 'sqlite', controller: { invocationsPerMinute: 20 } });
  let failures: string[] = [];
  let checked = false;
  try {
    const [uuid, secret] = gust.apiKey.split(':');
    await seedActions(gust.client());
    const seed = Number(process.env.GUST_FUZZ_SEED ?? Math.floor(Math.random() * 1e9));
    // The fuzzer's progress and verdict are for the human at the terminal: plain stdout.
    console.log(`fuzz: ${gust.apihost}/api/v1/api-docs, seed ${seed}`);
    const code = await run(
      schemathesis,
      [
        'run',
        `${gust.apihost}/api/v1/api-docs`,
        '--url',
        gust.apihost,
        '--auth',
        `${uuid}:${secret}`,
        '--checks',
        'not_a_server_error',
        '--continue-on-failure',
        '--max-examples',
        maxExamplesArg ?? '300',
        '--seed',
        String(seed),
        '--workers',
        '4',
        '--request-timeout',
        '120',
        '--generation-database',
        'none',
        '--no-shrink',
        '--report',
        'har',
        '--report-har-path',
        har,
      ],
      reportDir,
      outputFile,
    );
    const entries = (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries;
    const serverErrors = entries.filter((e) => e.response.status >= 500 && !isDeveloperError(e));
    const alive = await fetch(`${gust.apihost}/api/v1`).then(
      (r) => r.status,
      () => 0,
    );
    // Every activation id the API answered with (202 {activationId} or a blocking record).
    const handedOut = new Set<string>();
    for (const entry of entries) {
      if (entry.request.method !== 'POST' || entry.response.status >= 500) continue;
      const body = parse(entry.response.content?.text) as { activationId?: unknown } | undefined;
      if (typeof body?.activationId === 'string') handedOut.add(body.activationId);
    }
    console.log(
      `fuzz: ${entries.length} requests, ${serverErrors.length} server errors, ` +
        `${entries.filter(isDeveloperError).length} developer-error 502s, ${handedOut.size} activations handed out, ` +
        `controller ${alive === 200 ? 'alive' : `not answering (${alive})`}, schemathesis exit ${code}`,
    );
    for (const e of serverErrors.slice(0, 20))
      console.log(
        `  ${e.response.status} ${e.request.method} ${e.request.url} ${e.request.postData?.text?.slice(0, 300)} -> ${e.response.content?.text?.slice(0, 200)}`,
      );
    const lost: string[] = [];
    for (const id of handedOut) if (!(await recorded(gust.apihost, gust.apiKey, id))) lost.push(id);
    console.log(`fuzz: ${lost.length} activations lost`);
    failures = [
      ...(entries.length < minRequests ? [`only ${entries.length} requests (< ${minRequests})`] : []),
      ...(serverErrors.length > 0 ? [`${serverErrors.length} server errors`] : []),
      ...(alive !== 200 ? ['the controller stopped answering'] : []),
      ...(lost.length > 0 ? [`${lost.length} activations lost: ${lost.slice(0, 5).join(', ')}`] : []),
    ];
    checked = true;
  } finally {
    const output = existsSync(outputFile) ? readFileSync(outputFile, 'utf8') : '';
    // Empty when schemathesis wrote to the terminal (it printed there already).
    if (output && checked && failures.length === 0)
      console.log(`fuzz: schemathesis test cases: ${testCasesOf(output)}`);
    else if (output) console.log(`fuzz: schemathesis printed:\n${output}`);
    await gust.stop().catch(() => undefined);
    rmSync(reportDir, { recursive: true, force: true });
  }
  if (failures.length > 0) throw new Error(`fuzz failed: ${failures.join('; ')}`);
  console.log('fuzz: passed');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
