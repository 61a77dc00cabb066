// The previous release's source tree, for the upgrade test (control-upgrade.test.ts): `git archive`
// of its commit into a temporary directory, so it works in any clone that has the commit (CI's
// fresh clone has the whole history), with this checkout's node_modules linked in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The commit of the previous release (releases are not tagged). Bump it when a release ships, so
 * each release is tested against the shape the one before it left running.
 */
export const PREVIOUS_RELEASE = 'ef6518d';

const ROOT = resolve(__dirname, '..', '..');

export interface CheckedOutRelease {
  commit: string;
  /** Root of the extracted tree. */
  dir: string;
  remove(): void;
}

export function checkOutRelease(commit = PREVIOUS_RELEASE): CheckedOutRelease {
  const dir = mkdtempSync(join(tmpdir(), `gust-release-${commit}-`));
  try {
    const tar = join(dir, 'release.tar');
    execFileSync('git', [
      '-C',
      ROOT,
      'archive',
      '--format=tar',
      '-o',
      tar,
      commit,
      '--',
      'workflows',
      'common',
      'activities',
      'backends',
      'api',
      'runtimes',
    ]);
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    rmSync(tar);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot check out release ${commit} (a shallow clone lacks it): ${String(err)}`);
  }
  return { commit, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
