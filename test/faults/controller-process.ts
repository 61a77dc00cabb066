// A controller in a process of its own, for fault tests that kill it with SIGKILL (nothing in the
// process gets to clean up, as in a real crash). The process (controller-main.ts, through
// scripts/run-ts.js) joins the test's Gust (same Temporal scope, store and hosts) and prints
// `{"url": …}` on one line when it listens.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { GustConfig } from '../../common/config';
import type { Scope } from '../../workflows/scope';

export interface ControllerProcessInput {
  config: GustConfig;
  scope: Scope;
}

/** Starts the controller in a child process; resolves with its URL and the child. */
export async function startControllerProcess(
  input: ControllerProcessInput,
): Promise<{ url: string; child: ChildProcess }> {
  const root = join(__dirname, '..', '..');
  const child = fork(
    join(root, 'scripts', 'run-ts.js'),
    [join(__dirname, 'controller-main.ts'), JSON.stringify(input)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the controller process exited (${code})`)));
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) resolve(parsed.url);
      } catch {
        // a log line
      }
    });
  });
  child.removeAllListeners('exit');
  return { url, child };
}
