// The invoke path's decisions, with the runtime and control plane replaced by recording doubles.
// (The same path runs against real containers in test/e2e.)
import type { RuntimeCallResult } from '../../runtimes/runtime-client';
import { HotPath } from '../../api/hot-path';
import { Router } from '../../api/router';
import type { ControlPlane } from '../../common/contracts';
import { testAction, testLease } from './fixtures';

const ref = { namespace: 'guest', name: 'hello', version: '0.0.1' };
const action = testAction(ref);
const lease = (id: string, withAction: boolean) => testLease(id, withAction ? ref : null);

const reply = (status: number, text: string): RuntimeCallResult => ({
  outcome: 'response',
  status,
  text,
  body: JSON.parse(text),
  size: text.length,
  truncated: false,
});

function setup(runReply: RuntimeCallResult = reply(200, '{"ok":true}')) {
  const calls: string[] = [];
  const router = new Router({ maxQueuePerAction: 10 });
  const runtime = {
    init: async (address: string) => (calls.push(`init ${address}`), reply(200, '{"OK":true}')),
    run: async (address: string) => (calls.push(`run ${address}`), runReply),
    close: async (address: string) => void calls.push(`close ${address}`),
  };
  const control: ControlPlane = {
    requestContainers: async (a, n) => {
      calls.push(`request ${a.name} ${n}`);
      setTimeout(() => router.lease([lease('new', true)]), 5);
    },
    stemCellClaimed: async (l) => void calls.push(`claimed ${l.container.id}`),
    containerFailed: async (l, reason) => void calls.push(`failed ${l.container.id}: ${reason}`),
  };
  const hotPath = new HotPath({
    router,
    runtime,
    control,
    provisionTimeoutMs: 1000,
    apiHost: 'http://127.0.0.1:3233',
  });
  const invoke = () =>
    hotPath.invoke({
      action,
      params: {},
      activationId: 'a'.repeat(32),
      namespace: 'guest',
      subject: 'guest',
    });
  return { router, calls, invoke };
}

const annotation = (record: { annotations: { key: string; value: unknown }[] }, key: string) =>
  record.annotations.find((a) => a.key === key)?.value;

describe('HotPath', () => {
  it('runs a warm container without /init and without asking the control plane', async () => {
    const { router, calls, invoke } = setup();
    router.lease([lease('warm', true)]);
    router.leased()[0]!.initialized = Promise.resolve();
    const { activation } = await invoke();
    expect(calls).toEqual(['run http://127.0.0.1/warm']);
    expect(activation.response).toMatchObject({ status: 'success', result: { ok: true } });
    expect(annotation(activation, 'initTime')).toBeUndefined();
    expect(router.usage()[0]!.inFlight).toBe(0);
  });

  it('claims a stem cell, initialises it and reports the claim', async () => {
    const { router, calls, invoke } = setup();
    router.lease([lease('cell', false)]);
    const { activation } = await invoke();
    expect(calls).toEqual(['claimed cell', 'init http://127.0.0.1/cell', 'run http://127.0.0.1/cell']);
    expect(annotation(activation, 'initTime')).toEqual(expect.any(Number));
  });

  it('asks the pool workflow for a container when nothing fits, then runs on the leased one', async () => {
    const { calls, invoke } = setup();
    const { activation } = await invoke();
    expect(calls).toEqual(['request hello 1', 'init http://127.0.0.1/new', 'run http://127.0.0.1/new']);
    expect(activation.response.success).toBe(true);
  });

  it('destroys the container after a timeout and marks the record', async () => {
    const { router, calls, invoke } = setup({ outcome: 'timeout', timeoutMs: 1000 });
    router.lease([lease('warm', true)]);
    router.leased()[0]!.initialized = Promise.resolve();
    const { activation } = await invoke();
    expect(activation.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action exceeded its time limits of 1000 milliseconds.' },
    });
    expect(annotation(activation, 'timeout')).toBe(true);
    expect(calls).toContain('failed warm: The action exceeded its time limits of 1000 milliseconds.');
    expect(calls).toContain('close http://127.0.0.1/warm');
    expect(router.usage()).toEqual([]);
  });

  it('keeps the container warm after an application error', async () => {
    const { router, invoke } = setup(reply(200, '{"error":"nope"}'));
    router.lease([lease('warm', true)]);
    router.leased()[0]!.initialized = Promise.resolve();
    const { activation } = await invoke();
    expect(activation.response).toMatchObject({ status: 'application error', statusCode: 1 });
    expect(router.usage()).toHaveLength(1);
  });
});
