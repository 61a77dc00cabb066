// Audit L9: containers are keyed by action revision and invoking namespace. The invoking namespace
// enters a key only when it is not the action's own tenant, so the keys, pool ids and recorded
// histories of the common case are the ones they always were.
import {
  actionPoolWorkflowId,
  actionRefOf,
  actionVersionKey,
  chargedNamespace,
  invokerOf,
  knativeServiceWorkflowId,
} from '../../common/names';
import { actionSpecOf } from '../../workflows/messages';
import { testAction } from './fixtures';

const action = { namespace: 'owner/pkg', name: 'act', version: '0.0.1', updated: 7 };

describe('invokerOf', () => {
  test.each([
    ['the owner', 'owner/pkg', 'owner', undefined],
    ['the owner, action outside a package', 'owner', 'owner', undefined],
    ['another namespace', 'owner/pkg', 'alice', 'alice'],
    ['a namespace named like the package', 'owner/pkg', 'pkg', 'pkg'],
  ])('%s', (_, actionNamespace, invoking, invoker) => {
    expect(invokerOf(actionNamespace, invoking)).toBe(invoker);
  });
});

test('the owner’s runs keep the keys and pool ids they had; another namespace’s get their own', () => {
  const own = actionRefOf(action, 'owner');
  expect(own).toEqual(actionRefOf(action));
  expect(own).toEqual({ namespace: 'owner/pkg', name: 'act', version: '0.0.1+7' });
  expect(actionVersionKey(own)).toBe('owner/pkg/act@0.0.1+7');
  expect(actionPoolWorkflowId(own)).toBe('pool/owner/pkg/act');
  expect(knativeServiceWorkflowId(own)).toBe('knative/owner/pkg/act');
  expect(chargedNamespace(own)).toBe('owner');

  const alice = actionRefOf(action, 'alice');
  expect(alice).toEqual({ ...own, invoker: 'alice' });
  expect(actionPoolWorkflowId(alice)).toBe('pool/owner/pkg/act~alice');
  expect(knativeServiceWorkflowId(alice)).toBe('knative/owner/pkg/act~alice');
  expect(chargedNamespace(alice)).toBe('alice');

  const keys = ['owner', 'alice', 'bob'].map((ns) => actionVersionKey(actionRefOf(action, ns)));
  expect(new Set(keys).size).toBe(3);
  const pools = ['owner', 'alice', 'bob'].map((ns) => actionPoolWorkflowId(actionRefOf(action, ns)));
  expect(new Set(pools).size).toBe(3);
});

test('no invoker makes a key another action has (`~` is in no entity name)', () => {
  // An action named `act~alice` cannot exist, so its key cannot be alice's key of `act`.
  const alice = actionVersionKey(actionRefOf(action, 'alice'));
  const otherVersion = actionVersionKey(actionRefOf({ ...action, version: '0.0.1', updated: 8 }, 'alice'));
  expect(alice).not.toBe(otherVersion);
  expect(actionPoolWorkflowId(actionRefOf(action, 'alice'))).not.toBe(
    actionPoolWorkflowId({ namespace: 'owner/pkg/act', name: 'alice' }),
  );
});

test('the pool spec a controller sends carries the invoker only for another namespace', () => {
  const a = testAction({ namespace: 'owner', name: 'f', version: '0.0.1' });
  expect(actionSpecOf(a).ref).not.toHaveProperty('invoker');
  expect(actionSpecOf(a, 'owner').ref).not.toHaveProperty('invoker');
  expect(actionSpecOf(a, 'alice').ref.invoker).toBe('alice');
});
