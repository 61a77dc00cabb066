// The names a test file gives what it creates in one run. Every worktree and CI share the stack's
// Temporal, dockerd, Kubernetes and Cassandra at once, so those names carry an id of the run (and
// the harnesses terminate and remove by the run's prefix, never more).

/** A fresh id for one run: six base-36 characters. */
export function runId(): string {
  return Math.random().toString(36).slice(2, 8);
}

export interface TestRun {
  id: string;
  /** `<tag><id>-`: the scope of the run's workflow ids, task queues and host ids. */
  prefix: string;
  /** `guest<id>`: the namespace of the run's actions. */
  namespace: string;
}

/** One run's names for a control-path test file; `tag` says which file (e.g. 'cpool'). */
export function testRun(tag: string): TestRun {
  const id = runId();
  return { id, prefix: `${tag}${id}-`, namespace: `guest${id}` };
}
