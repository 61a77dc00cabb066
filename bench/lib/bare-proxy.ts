// The second baseline: a bare Fastify → undici proxy to the same container, in its own process,
// doing only what any controller must (parse the request, POST it to /run over a keep-alive pool,
// send the answer back). Gust's CPU per request is compared with this process's.
//   `node dist/bench/lib/bare-proxy.js <container origin>` answers its port over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Fastify from 'fastify';
import { poolFor, runtimeHeaders } from './runtime-origin';

export interface BareProxy {
  url: string;
  pid: number;
  close(): Promise<void>;
}

export async function startBareProxy(target: string, runBody: string): Promise<BareProxy> {
  const child: ChildProcess = fork(join(__dirname, 'bare-proxy.js'), [target, runBody], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bare proxy exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(target: string, runBody: string): Promise<void> {
  const pool = poolFor(target, { pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/json', ...runtimeHeaders(target) };
  const app = Fastify({ logger: false });
  app.post('/run', async (request, reply) => {
    // The invoke's parameters go in as the run payload's value, as a controller would do.
    const body = JSON.parse(runBody) as { value: unknown };
    body.value = request.body ?? {};
    const response = await pool.request({
      method: 'POST',
      path: '/run',
      headers,
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    return reply.code(response.statusCode).type('application/json').send(text);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  process.on(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => pool.close())
        .then(() => process.exit(0)),
  );
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) {
  void main(process.argv[2]!, process.argv[3]!);
}
