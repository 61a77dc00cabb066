// A foreign action runtime for the blackbox tests: it speaks /init and /run but ignores the
// action's code and answers every run with what it was sent. Not Gust's runtime; no shared code.
import { createServer } from 'node:http';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
let runs = 0;

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body =
      chunks.length === 0
        ? {}
        : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
    let status = 404;
    let reply: unknown = { error: 'unknown route' };
    if (request.url === '/init') {
      status = 200;
      reply = { OK: true, ignored: 'code' };
    } else if (request.url === '/run') {
      status = 200;
      runs += 1;
      console.log(`blackbox-echo run ${runs}`);
      reply = {
        echo: body.value ?? null,
        activationId: body.activation_id ?? null,
        runs,
        runtime: 'blackbox-echo',
      };
      console.log(SENTINEL);
      console.error(SENTINEL);
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(reply));
  });
  // Port and address from the environment like the Node.js runtime (a host-network pod gets its
  // own port; Knative gives it as PORT); 8080 on every interface otherwise, as OpenWhisk's images do.
}).listen(Number(process.env.__OW_PORT ?? process.env.PORT ?? 8080), process.env.__OW_HOST);
