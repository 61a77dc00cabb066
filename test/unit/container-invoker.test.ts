// The invoke core's decisions, with the runtime and control plane replaced by recording doubles.
// (The same path runs against real containers in test/e2e; api-invoke-core.test.ts runs it under
// the real route.)
import { CLAIM_REPORT_MAX_DELAY_MS, ContainerInvoker } from '../../api/invoke/container-invoker';
import type { InvokeRequest, Ran } from '../../api/invoke/invoker';
import { Router } from '../../api/invoke/router';
import { actionRefOf } from '../../common/names';
import type { ControlPlane } from '../../common/contracts';
import { SILENT_LOGGER } from '../../common/logger';
import { WHISK_MESSAGES } from '../../common/whisk-messages';
import type { RuntimeCallResult } from '../../runtimes/runtime-client';
import type { ActivationLogReader } from '../../backends/backend';
import type { Action, ContainerInfo } from '../../common/types';
import { testAction, testLease } from './fixtures';
import { advanceUntilSettled, useFakeTimeInEachTest } from './fake-time';

const action = testAction({ namespace: 'guest', name: 'hello', version: '0.0.1' });
const ref = actionRefOf(action);
const lease = (id: string, withAction: boolean) => testLease(id, withAction ? ref : null);

const reply = (status: number, text: string): RuntimeCallResult => ({
  outcome: 'response',
  status,
  text,
  size: text.length,
});

interface Setup {
  run?: RuntimeCallResult;
  init?: RuntimeCallResult;
  maxQueue?: number;
  /** The pool workflow leases a container when asked (default true). */
  leases?: boolean;
  /** /run answers once this settles (default: at once). */
  runGate?: Promise<void>;
  /** The action's limits (default: testAction's). */
  limits?: Partial<Action['limits']>;
  /** Claim reports that fail before one gets through (Temporal refuses connections). */
  claimFailures?: number;
}

function setup({
  run = reply(200, '{"ok":true}'),
  init = reply(200, '{"OK":true}'),
  maxQueue = 10,
  leases = true,
  runGate,
  limits,
  claimFailures = 0,
}: Setup = {}) {
  const calls: string[] = [];
  const prepared: string[] = [];
  /** What happened to the log streams: `open <id>`, `read <id>`, `close <id>`. */
  const logEvents: string[] = [];
  const openLogs = (container: ContainerInfo): ActivationLogReader => {
    logEvents.push(`open ${container.id}`);
    return {
      next: async () => (logEvents.push(`read ${container.id}`), [`line from ${container.id}`]),
      close: () => void logEvents.push(`close ${container.id}`),
    };
  };
  const router = new Router({ maxQueuePerAction: maxQueue });
  const runtime = {
    init: async (address: string) => (calls.push(`init ${address}`), init),
    run: async (address: string) => {
      calls.push(`run ${address}`);
      await runGate;
      calls.push(`run ended ${address}`);
      return run;
    },
    prepare: (address: string) => void prepared.push(address),
    close: async (address: string) => void calls.push(`close ${address}`),
  };
  const control: ControlPlane = {
    requestContainers: async (a, n) => {
      calls.push(`request ${a.name} ${n}`);
      // The lease comes later, as the pool workflow's activity delivers it: a turn of the event loop.
      if (leases) setImmediate(() => router.lease([lease('new', true)]));
    },
    withdrawContainers: async () => undefined,
    stemCellClaimed: async (l) => {
      if (claimFailures-- > 0) {
        calls.push(`claim refused ${l.container.id}`);
        throw Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 });
      }
      calls.push(`claimed ${l.container.id}`);
    },
    containerFailed: async (l, reason) => void calls.push(`failed ${l.container.id}: ${reason}`),
  };
  const invoker = new ContainerInvoker({
    router,
    runtime,
    control,
    log: SILENT_LOGGER,
    provisionTimeoutMs: 1000,
    apiHost: 'http://127.0.0.1:3233',
    openLogs,
  });
  const invoked = limits ? testAction(ref, limits) : action;
  let n = 0;
  const request = (): InvokeRequest => ({
    action: invoked,
    params: {},
    activationId: String(n++).padStart(32, '0'),
    transactionId: 'tid',
    namespace: 'guest',
    subject: 'guest',
  });
  const admit = () => invoker.invoke(request());
  const invoke = (): Promise<Ran> => {
    const admission = admit();
    if (admission.kind !== 'admitted') throw new Error('refused');
    return admission.ran;
  };
  return { router, calls, prepared, logEvents, invoke, admit };
}

/** Lets callbacks queued with setImmediate (the deferred claim report) run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const annotation = (record: { annotations: { key: string; value: unknown }[] }, key: string) =>
  record.annotations.find((a) => a.key === key)?.value;

describe('ContainerInvoker', () => {
  it('initialises a container once, then runs it warm without /init and without the control plane', async () => {
    const { router, calls, invoke } = setup();
    router.lease([lease('warm', true)]);
    const first = await invoke();
    expect(annotation(first.activation, 'initTime')).toEqual(expect.any(Number));
    const { activation } = await invoke();
    expect(calls).toEqual([
      'init http://127.0.0.1/warm',
      'run http://127.0.0.1/warm',
      'run ended http://127.0.0.1/warm',
      'run http://127.0.0.1/warm',
      'run ended http://127.0.0.1/warm',
    ]);
    expect(activation.response).toMatchObject({ status: 'success', result: { ok: true } });
    expect(annotation(activation, 'initTime')).toBeUndefined();
    expect(router.usage()[0]!.inFlight).toBe(0);
  });

  it('sends /init once when several activations arrive on a fresh container', async () => {
    const { router, calls, invoke } = setup();
    router.lease([testLease('multi', ref, 3)]);
    const records = await Promise.all([invoke(), invoke(), invoke()]);
    expect(calls.filter((c) => c.startsWith('init'))).toHaveLength(1);
    expect(records.filter((r) => annotation(r.activation, 'initTime') !== undefined)).toHaveLength(1);
  });

  it('claims a stem cell, initialises it and reports the claim once its /run has ended', async () => {
    const { router, calls, invoke } = setup();
    router.lease([lease('cell', false)]);
    const { activation } = await invoke();
    await nextTurn();
    expect(calls).toEqual([
      'init http://127.0.0.1/cell',
      'run http://127.0.0.1/cell',
      'run ended http://127.0.0.1/cell',
      'claimed cell',
    ]);
    expect(annotation(activation, 'initTime')).toEqual(expect.any(Number));
    await invoke();
    await nextTurn();
    expect(calls.filter((c) => c.startsWith('claimed'))).toEqual(['claimed cell']);
  });

  it('reports a stem cell’s claim while a long /run is still going', async () => {
    let endRun = (): void => undefined;
    const runGate = new Promise<void>((resolve) => (endRun = resolve));
    const { router, calls, invoke } = setup({ runGate });
    router.lease([lease('cell', false)]);
    // The claim's report waits on a timer: fake time moves it (test/unit/fake-time.ts).
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    try {
      const ran = invoke();
      await jest.advanceTimersByTimeAsync(CLAIM_REPORT_MAX_DELAY_MS - 1);
      expect(calls).toEqual(['init http://127.0.0.1/cell', 'run http://127.0.0.1/cell']);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toEqual(['init http://127.0.0.1/cell', 'run http://127.0.0.1/cell', 'claimed cell']);
      endRun();
      await advanceUntilSettled(ran);
      await jest.advanceTimersByTimeAsync(0); // a turn of the (fake) event loop
    } finally {
      jest.useRealTimers();
    }
    expect(calls.filter((c) => c.startsWith('claimed'))).toEqual(['claimed cell']);
  });

  it('reports a stem cell’s claim before its failure when /init fails', async () => {
    const { router, calls, invoke } = setup({ init: reply(502, '{"error":"bad code"}') });
    router.lease([lease('cell', false)]);
    const { activation } = await invoke();
    await nextTurn();
    expect(activation.response.status).toBe('action developer error');
    const reports = calls.filter((c) => c.startsWith('claimed') || c.startsWith('failed'));
    expect(reports).toEqual(['claimed cell', expect.stringMatching(/^failed cell: /)]);
    expect(calls).not.toContain('run http://127.0.0.1/cell');
  });

  describe('a claim report that fails (fake time: its retries wait on timers)', () => {
    useFakeTimeInEachTest();

    it('is sent again until a pool hears of it', async () => {
      const { router, calls, invoke } = setup({ claimFailures: 2 });
      router.lease([lease('cell', false)]);
      await advanceUntilSettled(invoke());
      await jest.advanceTimersByTimeAsync(0);
      expect(calls.filter((c) => c.includes('claim'))).toEqual(['claim refused cell']);
      await jest.advanceTimersByTimeAsync(100);
      expect(calls.filter((c) => c.includes('claim'))).toEqual(['claim refused cell', 'claim refused cell']);
      await jest.advanceTimersByTimeAsync(200);
      expect(calls.filter((c) => c.includes('claim'))).toEqual([
        'claim refused cell',
        'claim refused cell',
        'claimed cell',
      ]);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(calls.filter((c) => c.includes('claim'))).toHaveLength(3);
    });

    it('is given up once the container is gone, and its failure is reported', async () => {
      const { router, calls, invoke } = setup({
        claimFailures: Infinity,
        init: reply(502, '{"error":"bad"}'),
      });
      router.lease([lease('cell', false)]);
      await advanceUntilSettled(invoke());
      await jest.advanceTimersByTimeAsync(10_000);
      const reports = calls.filter((c) => c.includes('claim') || c.startsWith('failed'));
      expect(reports).toEqual(['claim refused cell', expect.stringMatching(/^failed cell: /)]);
    });
  });

  it('opens a stem cell’s log stream as it is leased, and the claiming activation’s logs come from it', async () => {
    const { router, logEvents, invoke } = setup();
    router.lease([lease('cell', false)]);
    expect(logEvents).toEqual(['open cell']);
    const { logs } = await invoke();
    expect(await logs).toEqual(['line from cell']);
    expect(logEvents).toEqual(['open cell', 'read cell']);
  });

  it('closes a stem cell’s log stream when the claiming action collects no logs', async () => {
    const { router, logEvents, invoke } = setup({ limits: { concurrency: 4 } });
    router.lease([lease('cell', false)]);
    const { logs } = await invoke();
    expect(await logs).toEqual([]);
    expect(logEvents).toEqual(['open cell', 'close cell']);
  });

  it('opens a leased container’s log stream only when its first activation collects logs', async () => {
    const { router, logEvents, invoke } = setup();
    router.lease([lease('warm', true)]);
    expect(logEvents).toEqual([]);
    await invoke();
    expect(logEvents).toEqual(['open warm', 'read warm']);
  });

  it('readies the runtime client for every container as it is leased, stem cells included', () => {
    const { router, prepared } = setup();
    router.lease([lease('cell', false), lease('warm', true)]);
    expect(prepared).toEqual(['http://127.0.0.1/cell', 'http://127.0.0.1/warm']);
  });

  it('asks the pool workflow for a container when nothing fits, then runs on the leased one', async () => {
    const { calls, invoke } = setup();
    const { activation } = await invoke();
    expect(calls).toEqual([
      'request hello 1',
      'init http://127.0.0.1/new',
      'run http://127.0.0.1/new',
      'run ended http://127.0.0.1/new',
    ]);
    expect(activation.response.success).toBe(true);
  });

  it('refuses at once, recording nothing, when the action’s queue is full', () => {
    const { calls, admit } = setup({ maxQueue: 2, leases: false });
    expect(admit().kind).toBe('admitted');
    expect(admit().kind).toBe('admitted');
    expect(admit()).toEqual({ kind: 'refused', reason: 'queue-full', queued: 2, allowed: 2 });
    expect(calls).toEqual(['request hello 1']);
  });

  it('destroys the container after a timeout and marks the record', async () => {
    const { router, calls, invoke } = setup({ run: { outcome: 'timeout', timeoutMs: 1000 } });
    router.lease([lease('warm', true)]);
    const { activation } = await invoke();
    expect(activation.response).toMatchObject({
      status: 'action developer error',
      result: { error: WHISK_MESSAGES.timeout(1000) },
    });
    expect(annotation(activation, 'timeout')).toBe(true);
    expect(calls).toContain(`failed warm: ${WHISK_MESSAGES.timeout(1000)}`);
    expect(calls).toContain('close http://127.0.0.1/warm');
    expect(router.usage()).toEqual([]);
  });

  it('an /init timeout is a developer error marked as timeout, and the container goes', async () => {
    const { router, calls, invoke } = setup({ init: { outcome: 'timeout', timeoutMs: 1000 } });
    router.lease([lease('warm', true)]);
    const { activation } = await invoke();
    expect(activation.response.result).toEqual({ error: WHISK_MESSAGES.initTimeout(1000) });
    expect(annotation(activation, 'timeout')).toBe(true);
    expect(annotation(activation, 'initTime')).toEqual(expect.any(Number));
    expect(calls).not.toContain('run http://127.0.0.1/warm');
    expect(router.usage()).toEqual([]);
  });

  it('a failed /init answers with the runtime’s error', async () => {
    const { router, invoke } = setup({ init: reply(502, '{"error":"bad code"}') });
    router.lease([lease('warm', true)]);
    const { activation } = await invoke();
    expect(activation.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'bad code' },
    });
    expect(annotation(activation, 'timeout')).toBe(false);
  });

  it('a container that hangs up during /run is a developer error', async () => {
    const { router, invoke } = setup({
      run: { outcome: 'connection-error', code: 'ECONNRESET', message: 'reset' },
    });
    router.lease([lease('warm', true)]);
    const { activation } = await invoke();
    expect(activation.response.result).toEqual({ error: WHISK_MESSAGES.exitedDuringRun });
  });

  it('keeps the container warm after an application error', async () => {
    const { router, invoke } = setup({ run: reply(200, '{"error":"nope"}') });
    router.lease([lease('warm', true)]);
    const { activation } = await invoke();
    expect(activation.response).toMatchObject({ status: 'application error', statusCode: 1 });
    expect(router.usage()).toHaveLength(1);
  });
});
