// Where the compiled Node.js runtime is on this machine, for the process backend (which runs it
// directly) and the image build. `runtimes/nodejs/tsconfig.json` emits it into `build/`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The image's name; the runtime client and backends treat it like any other image. */
export const NODEJS_RUNTIME_IMAGE = 'gust/action-nodejs:20';
export const NODEJS_RUNTIME_KIND = 'nodejs:20';

export function nodejsRuntimeEntry(): string {
  // From source (jest, node -r) this file is runtimes/nodejs/; compiled, it is dist/runtimes/nodejs/.
  const candidates = [
    join(__dirname, 'build', 'app.js'),
    join(__dirname, '..', '..', '..', 'runtimes', 'nodejs', 'build', 'app.js'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      `the Node.js runtime is not built (looked for ${candidates.join(', ')}): run \`npm run image\` or \`npx tsc -p runtimes/nodejs\``,
    );
  }
  return found;
}
