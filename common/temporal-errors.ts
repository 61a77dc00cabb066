// How a Temporal client call says that the workflow it addressed is not running any more.

/** The workflow does not exist or has finished: what it owned is gone with it. */
export function isWorkflowGone(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'WorkflowNotFoundError' || name === 'WorkflowExecutionAlreadyCompletedError';
}
