// The previous release's workflow code, for the upgrade test (control-upgrade.test.ts): its
// workflow bundle as the release shipped it, recorded in test/fixtures/releases/, so the test needs
// neither that commit in the clone (a shallow clone lacks it) nor a bundling of old sources.
// Record a release's bundle when it ships, then bump PREVIOUS_RELEASE:
//   node scripts/run-ts.js test/integration/previous-release.ts <commit>
// (`git archive` of that commit's sources, this checkout's node_modules, bundled like workers do).
import type { WorkflowBundle } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bundleControlPathWorkflows } from '../../workers/temporal';

/** The commit of the previous release (releases are not tagged). */
export const PREVIOUS_RELEASE = 'ef6518d';

const ROOT = resolve(__dirname, '..', '..');
const recorded = (commit: string): string =>
  join(ROOT, 'test', 'fixtures', 'releases', `${commit}-workflows.js.gz`);

/** The recorded workflow bundle of release `commit`. */
export function releaseBundle(commit = PREVIOUS_RELEASE): WorkflowBundle {
  return { code: gunzipSync(readFileSync(recorded(commit))).toString('utf8') };
}

/** Bundles the workflows of `commit` from git and records them (run when a release ships). */
async function recordReleaseBundle(commit: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `gust-release-${commit}-`));
  try {
    const tar = join(dir, 'release.tar');
    const sources = ['workflows', 'common', 'activities', 'backends', 'api', 'runtimes'];
    execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', '-o', tar, commit, '--', ...sources]);
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const { code } = await bundleControlPathWorkflows({ workflowsPath: join(dir, 'workflows', 'index.ts') });
    writeFileSync(recorded(commit), gzipSync(code, { level: 9 }));
    // A command-line tool (see the header): its result is for the human who ran it.
    console.log(`recorded ${recorded(commit)} (${code.length} bytes of bundle)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  recordReleaseBundle(process.argv[2] ?? PREVIOUS_RELEASE).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
