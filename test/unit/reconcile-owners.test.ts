import { ServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { judgeOwner, type OwnerCheck } from '../../activities/cluster';

describe('what reconcile makes of a container owner that visibility does not list', () => {
  it.each<[string, OwnerCheck, ReturnType<typeof judgeOwner>]>([
    ['a running owner answers for its containers', { status: 'RUNNING' }, 'alive'],
    ['a paused owner answers for its containers', { status: 'PAUSED' }, 'alive'],
    ['a run that continued as new answers through its successor', { status: 'CONTINUED_AS_NEW' }, 'alive'],
    ['a completed owner owns nothing', { status: 'COMPLETED' }, 'gone'],
    ['a failed owner owns nothing', { status: 'FAILED' }, 'gone'],
    ['a cancelled owner owns nothing', { status: 'CANCELLED' }, 'gone'],
    ['a terminated owner owns nothing', { status: 'TERMINATED' }, 'gone'],
    ['a timed-out owner owns nothing', { status: 'TIMED_OUT' }, 'gone'],
    [
      'an owner that never existed owns nothing',
      { error: new WorkflowNotFoundError('not found', 'pool/x', undefined) },
      'gone',
    ],
    ['an owner whose status is unknown keeps its containers', { status: 'UNKNOWN' }, 'unknown'],
    [
      'an owner that cannot be described keeps its containers',
      { error: new ServiceError('unavailable') },
      'unknown',
    ],
    [
      'a describe past its deadline keeps the containers',
      { error: new Error('Deadline exceeded') },
      'unknown',
    ],
  ])('%s', (_, check, verdict) => {
    expect(judgeOwner(check)).toBe(verdict);
  });
});
