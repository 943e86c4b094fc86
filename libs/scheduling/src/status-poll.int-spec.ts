// Status polls against real PostgreSQL, with a manual clock: a poll started in a transaction that rolls back does not
// exist; questions come on the schedule and a found result ends the poll in the owner's transaction, once; a
// cancelled poll asks nothing more; and the window's end is reported once, after a last question at its end.
import { randomUUID } from 'node:crypto';
import { MessagingRig } from '@orderflow/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { JobRunner } from './job-runner.js';
import { JobStore } from './job-store.js';
import { CreateScheduledJobs1764100000000 } from './scheduled-jobs.migration.js';
import { type PollAnswer, StatusPollMetrics, StatusPolls } from './status-poll.js';

const S = 1_000;
let rig: MessagingRig;

beforeAll(async () => {
  rig = await MessagingRig.create([CreateScheduledJobs1764100000000]);
  await rig.dataSource.query(`CREATE TABLE poll_results (key text PRIMARY KEY, result text NOT NULL)`);
});
afterAll(async () => {
  await rig.dispose();
});

/** A third party whose answer a test sets, and an owner that records it with the poll's end in one transaction. */
function setUp() {
  const clock = new ManualClock(new Date('2026-12-01T12:00:00Z'));
  const store = new JobStore(clock);
  const silent = { warn: () => undefined, error: () => undefined };
  const runner = new JobRunner(rig.dataSource, store, clock, silent);
  const registry = new Registry();
  const polls = new StatusPolls(rig.dataSource, store, clock, runner, new StatusPollMetrics(registry), silent);
  const topic = `poll-${randomUUID().slice(0, 8)}`;
  const poll = polls.define<{ ref: string }>(topic, {
    firstIntervalMs: 5 * S,
    maxIntervalMs: 60 * S,
    windowMs: 120 * S,
  });
  const answers = new Map<string, string | undefined>();
  const asked: string[] = [];
  const ended: string[] = [];
  polls.answer(poll, {
    ask: async (data, key, finish): Promise<PollAnswer> => {
      asked.push(key);
      const result = answers.get(data.ref);
      if (result === undefined) return { outcome: 'pending' };
      await rig.dataSource.transaction(async (tx) => {
        await tx.query(`INSERT INTO poll_results (key, result) VALUES ($1, $2)`, [key, result]);
        await finish(tx);
      });
      return { outcome: 'applied' };
    },
    windowEnded: async (_data, key, finish) => {
      await rig.dataSource.transaction(async (tx) => {
        ended.push(key);
        await finish(tx);
      });
    },
  });
  const drain = () => runner.drain(topic);
  const outcomes = async (): Promise<Record<string, number>> => {
    const metric = await registry.getSingleMetric('orderflow_status_polls_total')?.get();
    return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.outcome), v.value]));
  };
  return { clock, store, topic, poll, answers, asked, ended, drain, outcomes };
}

async function resultOf(key: string): Promise<string | undefined> {
  const rows = await rig.dataSource.query<{ result: string }[]>(`SELECT result FROM poll_results WHERE key = $1`, [
    key,
  ]);
  return rows[0]?.result;
}

describe('a status poll', () => {
  it('exists only if the transaction that started it committed', async () => {
    const { poll, store, topic } = setUp();
    const key = randomUUID();
    await expect(
      rig.dataSource.transaction(async (tx) => {
        await poll.start(tx, key, { ref: key });
        throw new Error('the step failed');
      }),
    ).rejects.toThrow('the step failed');
    expect(await store.dueAt(rig.dataSource, topic, key)).toBeUndefined();
  });

  it('asks on the schedule until the result is there, and applies it once', async () => {
    const { clock, poll, answers, asked, drain, outcomes } = setUp();
    const key = randomUUID();
    await rig.dataSource.transaction((tx) => poll.start(tx, key, { ref: key }));

    clock.advance(5 * S - 1);
    expect(await drain()).toBe(0);
    clock.advance(1);
    expect(await drain()).toBe(1);
    clock.advance(15 * S - 1);
    expect(await drain()).toBe(0);
    answers.set(key, 'delivered');
    clock.advance(1);
    expect(await drain()).toBe(1);
    expect(await resultOf(key)).toBe('delivered');

    clock.advance(200 * S);
    expect(await drain()).toBe(0);
    expect(asked).toEqual([key, key]);
    expect(await outcomes()).toEqual({ pending: 1, applied: 1 });
  });

  it('asks nothing more once cancelled', async () => {
    const { clock, poll, asked, drain } = setUp();
    const key = randomUUID();
    await rig.dataSource.transaction((tx) => poll.start(tx, key, { ref: key }));
    expect(await rig.dataSource.transaction((tx) => poll.cancel(tx, key))).toBe(true);
    clock.advance(200 * S);
    expect(await drain()).toBe(0);
    expect(asked).toEqual([]);
  });

  it('asks a last time at the end of the window, then reports the window ended, once', async () => {
    const { clock, poll, asked, ended, drain, outcomes } = setUp();
    const key = randomUUID();
    await rig.dataSource.transaction((tx) => poll.start(tx, key, { ref: key }));
    // 5 s, 20 s, 80 s, then the window's end at 120 s (the next interval, 60 s, would pass it).
    for (const step of [5, 15, 60, 40]) {
      clock.advance(step * S);
      expect(await drain()).toBe(1);
    }
    expect(asked).toHaveLength(4);
    expect(ended).toEqual([key]);
    clock.advance(3_600 * S);
    expect(await drain()).toBe(0);
    expect(await outcomes()).toEqual({ pending: 3, window_ended: 1 });
  });
});
