// The whisk.system catalog and the native alarms feed, end to end through the official
// `openwhisk` client: utils invoked from the caller's namespace, and an alarm trigger (a Temporal
// Schedule per trigger) whose rule runs its action on schedule, keeps firing across a controller
// restart, and whose schedule goes when the trigger is deleted.
import openwhisk from 'openwhisk';
import { GUEST_API_KEY } from '../../api/api-keys';
import type { GustUnderTest } from './harness';
import { startGust } from './harness';
import { eventually, failure } from './waiting';
import { recordHistories } from '../integration/control-harness';

jest.setTimeout(240_000);

type Client = ReturnType<typeof openwhisk>;
let gust: GustUnderTest;
let ow: Client;

beforeAll(async () => {
  gust = await startGust({
    keyspace: 'gust_e2e_alarms',
    controller: { concurrentInvocations: 20, invocationsPerMinute: 10_000, firesPerMinute: 10_000 },
  });
  ow = gust.client();
});
afterAll(async () => {
  // GUST_RECORD_HISTORIES=1: an alarm fire's history, for control-replay.test.ts.
  if (gust)
    await recordHistories(gust.embedded.client, gust.scope.prefix, 'e2e-alarms', ['alarmFireWorkflow']);
  await gust?.stop();
});

describe('whisk.system/utils', () => {
  test('the catalog is public: listed, read and invoked from guest', async () => {
    const utils = await ow.packages.get({ name: '/whisk.system/utils' });
    expect(utils.publish).toBe(true);
    expect((utils.actions ?? []).map((a) => a.name).sort()).toEqual(
      ['cat', 'date', 'echo', 'head', 'hosturl', 'namespace', 'smash', 'sort', 'split'].sort(),
    );
    expect(
      await ow.actions.invoke({
        name: '/whisk.system/utils/echo',
        blocking: true,
        result: true,
        params: { a: 1 },
      }),
    ).toEqual({ a: 1 });
    expect(
      await ow.actions.invoke({
        name: '/whisk.system/utils/sort',
        blocking: true,
        result: true,
        params: { lines: ['b', 'c', 'a'] },
      }),
    ).toEqual({ lines: ['a', 'b', 'c'], length: 3 });
    const alarms = await ow.packages.get({ name: '/whisk.system/alarms' });
    expect((alarms.feeds ?? []).map((f) => f.name).sort()).toEqual(['alarm', 'interval', 'once']);
  });

  test("utils compose as OpenWhisk's catalog does, and see the caller's context", async () => {
    const utils = ['split', 'sort', 'head', 'cat'].map((name) => `/whisk.system/utils/${name}`);
    await ow.actions.create({ name: 'first-line', sequence: utils } as never);
    expect(
      await ow.actions.invoke({
        name: 'first-line',
        blocking: true,
        result: true,
        params: { payload: 'c\nb\na' },
      }),
    ).toEqual({ lines: ['a'], payload: 'a' });
    const invoke = (name: string, params: Record<string, unknown> = {}) =>
      ow.actions.invoke({ name: `/whisk.system/utils/${name}`, blocking: true, result: true, params });
    expect(await invoke('namespace')).toEqual({ namespace: 'guest' });
    expect(await invoke('hosturl', { trigger: 't' })).toEqual({
      url: `${gust.config.controller.apiHost}/api/v1/namespaces/guest/triggers/t`,
    });
  });
});

describe('alarms on Temporal Schedules', () => {
  test('fires on schedule, keeps firing across a controller restart, and goes with its trigger', async () => {
    await ow.actions.create({ name: 'tick-count', action: 'function main(p) { return p; }' });
    await ow.triggers.create({
      name: 'every2s',
      trigger: { annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] },
    });
    await ow.rules.create({ name: 'every2s-rule', trigger: 'every2s', action: 'tick-count' });
    const created = await ow.feeds.create({
      name: '/whisk.system/alarms/alarm',
      trigger: 'every2s',
      params: { cron: '*/2 * * * * *', trigger_payload: { hello: 'alarm' } },
    });
    expect(created).toMatchObject({ response: { result: { status: 'success' } } });
    const read = await (ow.feeds as unknown as { get(o: object): Promise<unknown> }).get({
      name: '/whisk.system/alarms/alarm',
      trigger: 'every2s',
    });
    expect(read).toMatchObject({
      response: { result: { config: { cron: '*/2 * * * * *', name: 'every2s' }, status: { active: true } } },
    });

    const scheduleId = `${gust.scope.prefix}alarm/guest/every2s`;
    const description = await gust.embedded.client.schedule.getHandle(scheduleId).describe();
    expect(description.scheduleId).toBe(scheduleId);

    const ticks = async (client: Client) =>
      (await client.activations.list({ name: 'tick-count', limit: 200 })) as { activationId: string }[];
    const before = await eventually(
      () => ticks(ow),
      (list) => list.length >= 2,
      60_000,
    );
    const one = await ow.activations.get({ name: before[0]!.activationId });
    expect(one.response?.result).toMatchObject({ hello: 'alarm' });

    // The only controller goes down while the schedule starts two more fires: their activity waits
    // in the alarms queue until the next controller's alarm worker polls it.
    const schedule = gust.embedded.client.schedule.getHandle(scheduleId);
    const taken = async () => (await schedule.describe()).info.numActionsTaken;
    const restarted = await gust.embedded.restartController(async () => {
      const atStop = await taken();
      await eventually(taken, (n) => n >= atStop + 2, 60_000);
    });
    const owAfter = openwhisk({ apihost: restarted.url, api_key: GUEST_API_KEY });
    ow = owAfter;
    const countAtRestart = (await ticks(owAfter)).length;
    await eventually(
      () => ticks(owAfter),
      (list) => list.length >= countAtRestart + 2,
      60_000,
    );
    // No fire was lost: once the schedule stops, every fire it took has run the action, once.
    await schedule.pause('counting the fires');
    const fires = await taken();
    const all = await eventually(
      () => ticks(owAfter),
      (list) => list.length >= fires,
      60_000,
    );
    expect(all.length).toBe(fires);

    const bad = await owAfter.feeds
      .create({ name: '/whisk.system/alarms/alarm', trigger: 'every2s', params: { cron: 'not a cron' } })
      .catch(
        (error: { statusCode?: number; error?: { response?: { result?: { error?: string } } } }) => error,
      );
    expect(bad).toMatchObject({ statusCode: 502 });

    await owAfter.triggers.delete({ name: 'every2s' });
    await expect(gust.embedded.client.schedule.getHandle(scheduleId).describe()).rejects.toMatchObject({
      name: 'ScheduleNotFoundError',
    });
    expect(
      await owAfter.feeds.delete({ name: '/whisk.system/alarms/alarm', trigger: 'every2s' }),
    ).toBeTruthy();
  });

  test('a once alarm fires once; deleteAfterFire removes its trigger and schedule, and with rules its rules', async () => {
    await ow.actions.create({ name: 'once-action', action: 'function main(p) { return p; }' });
    const date = Date.now() + 5_000;
    const cases = [
      ['once-true', 'true'],
      ['once-rules', 'rules'],
    ] as const;
    for (const [trigger, deleteAfterFire] of cases) {
      await ow.triggers.create({
        name: trigger,
        trigger: { annotations: [{ key: 'feed', value: '/whisk.system/alarms/once' }] },
      });
      await ow.rules.create({ name: `${trigger}-rule`, trigger, action: 'once-action' });
      await ow.feeds.create({
        name: '/whisk.system/alarms/once',
        trigger,
        params: { date, deleteAfterFire, trigger_payload: { which: trigger } },
      });
    }
    for (const [trigger] of cases) {
      await eventually(
        () => failure(ow.triggers.get({ name: trigger })),
        (error) => error.statusCode === 404,
        60_000,
      );
      await eventually(
        () =>
          failure(
            gust.embedded.client.schedule.getHandle(`${gust.scope.prefix}alarm/guest/${trigger}`).describe(),
          ),
        (error) => (error as { name?: string }).name === 'ScheduleNotFoundError',
      );
    }
    const runs = (await eventually(
      () => ow.activations.list({ name: 'once-action', docs: true, limit: 10 }),
      (list) => list.length >= 2,
    )) as unknown as { response?: { result?: unknown } }[];
    expect(
      runs
        .map((run) => run.response?.result)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([{ which: 'once-rules' }, { which: 'once-true' }]);
    const rules = (await ow.rules.list()).map((rule) => rule.name);
    expect(rules).toContain('once-true-rule');
    expect(rules).not.toContain('once-rules-rule');
  });

  test('the feed lifecycle: UPDATE, PAUSE, UNPAUSE and DELETE act on the schedule', async () => {
    const feed = '/whisk.system/alarms/alarm';
    // The client's types omit get and update, which it has (lib/feeds.js).
    const feeds = ow.feeds as unknown as Record<'get' | 'update', (o: object) => Promise<unknown>>;
    await ow.triggers.create({ name: 'yearly', trigger: { annotations: [{ key: 'feed', value: feed }] } });
    await ow.feeds.create({ name: feed, trigger: 'yearly', params: { cron: '0 0 1 1 *' } });
    const read = async () =>
      (
        (await feeds.get({ name: feed, trigger: 'yearly' })) as {
          response: { result: { config: { cron: string }; status: { active: boolean } } };
        }
      ).response.result;
    await feeds.update({ name: feed, trigger: 'yearly', params: { cron: '0 0 2 1 *' } });
    expect(await read()).toMatchObject({ config: { cron: '0 0 2 1 *' }, status: { active: true } });
    const lifecycle = (lifecycleEvent: string) =>
      ow.actions.invoke({
        name: feed,
        blocking: true,
        result: true,
        params: { lifecycleEvent, triggerName: '/_/yearly' },
      });
    expect(await lifecycle('PAUSE')).toEqual({ status: 'success' });
    expect((await read()).status.active).toBe(false);
    expect(await lifecycle('UNPAUSE')).toEqual({ status: 'success' });
    expect((await read()).status.active).toBe(true);
    expect(await ow.feeds.delete({ name: feed, trigger: 'yearly' })).toMatchObject({
      response: { result: { status: 'success' } },
    });
    const gone = await failure(feeds.get({ name: feed, trigger: 'yearly' }));
    expect([gone.statusCode, gone.error?.response?.result?.error]).toEqual([502, 'alarm does not exist']);
    await ow.triggers.delete({ name: 'yearly' });
  });

  test('feed parameter errors as the alarms package words them', async () => {
    await ow.triggers.create({ name: 'misconfigured' });
    const attempts: [string, Record<string, unknown>, string][] = [
      ['alarm', {}, 'alarms trigger feed is missing the cron parameter'],
      ['interval', { minutes: 0 }, 'the minutes parameter must be an integer greater than zero'],
      [
        'once',
        { date: Date.now() + 60_000, deleteAfterFire: 'maybe' },
        'deleteAfterFire parameter must be one of [false, true, rules].',
      ],
    ];
    for (const [feed, params, message] of attempts) {
      const error = (await ow.feeds
        .create({ name: `/whisk.system/alarms/${feed}`, trigger: 'misconfigured', params })
        .catch((e: unknown) => e)) as {
        statusCode?: number;
        error?: { response?: { result?: { error?: string } } };
      };
      expect(error.statusCode).toBe(502);
      expect(error.error?.response?.result?.error).toBe(message);
    }
  });
});
