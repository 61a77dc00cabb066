// Which failures of a launch or kill update the Mesos backend asks again (backends/mesos/backend.ts).
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isAskAgain } from '../../backends/mesos/backend';
import { TASK_NOT_RUNNING, TASK_STILL_PENDING } from '../../workflows/mesos-messages';

const updateFailed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);

test.each([
  [
    'still waiting, or continuing as new',
    updateFailed(ApplicationFailure.create({ type: TASK_STILL_PENDING })),
    true,
  ],
  [
    'dropped by the server: the task that carried it did not answer it',
    updateFailed(
      ApplicationFailure.create({
        message:
          "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
      }),
    ),
    true,
  ],
  ['the task did not start', updateFailed(ApplicationFailure.create({ type: TASK_NOT_RUNNING })), false],
  ['an invalid task id', updateFailed(ApplicationFailure.create({ message: 'invalid task id' })), false],
  ['not an update failure', new Error("wasn't processed by worker"), false],
])('%s', (_, err, askAgain) => {
  expect(isAskAgain(err)).toBe(askAgain);
});
