// The durable scheduler against real PostgreSQL, with a manual clock: jobs run when due and not before, once across
// replicas, again after a runner dies, never past a reschedule, and a busy group cannot hold up the others.
import { randomUUID } from 'node:crypto';
import { MessagingRig, waitFor } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { type JobHandler, JobRunner, type JobRunnerLogger } from './job-runner.js';
import { type ClaimedJob, JobLeaseLost, JobStore } from './job-store.js';
import { CreateScheduledJobs1764100000000 } from './scheduled-jobs.migration.js';

const HOUR = 3_600_000;
let rig: MessagingRig;

beforeAll(async () => {
  rig = await MessagingRig.create([CreateScheduledJobs1764100000000]);
  await rig.dataSource.query(`CREATE TABLE job_effects (job_key text NOT NULL, run integer NOT NULL)`);
});
afterAll(async () => {
  await rig.dispose();
});

const logged: Record<string, unknown>[] = [];
const logger: JobRunnerLogger = { warn: (e) => logged.push(e), error: (e) => logged.push(e) };

/** Each test its own topic and clock, so tests share the database and nothing else. */
function setUp(start = new Date('2026-11-23T12:00:00Z')) {
  const clock = new ManualClock(start);
  const store = new JobStore(clock);
  const topic = `t-${randomUUID().slice(0, 8)}`;
  const runner = () => new JobRunner(rig.dataSource, store, clock, logger);
  return { clock, store, topic, runner };
}

/** A handler whose effect and settlement commit together, as real handlers do. */
const recordAndComplete: JobHandler = async (job, context) => {
  await rig.dataSource.transaction(async (tx) => {
    await tx.query(`INSERT INTO job_effects (job_key, run) VALUES ($1, $2)`, [job.key, job.runs]);
    await context.complete(tx);
  });
};

async function effects(key: string): Promise<number> {
  const [{ n }] = await rig.dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM job_effects WHERE job_key = $1`,
    [key],
  );
  return n;
}

describe('the durable scheduler', () => {
  it('runs a job when its time comes, and not before', async () => {
    const { clock, store, topic, runner } = setUp();
    const key = randomUUID();
    const seen: ClaimedJob<{ order: string }>[] = [];
    const r = runner();
    r.register<{ order: string }>(topic, async (job, context) => {
      seen.push(job);
      await recordAndComplete(job, context);
    });
    await store.schedule(rig.dataSource, {
      topic,
      key,
      dueAt: new Date(clock.now().getTime() + HOUR),
      payload: { order: 'o-1' },
    });

    expect(await r.drain(topic)).toBe(0);
    clock.advance(HOUR - 1);
    expect(await r.drain(topic)).toBe(0);
    clock.advance(1);
    expect(await r.drain(topic)).toBe(1);
    expect(seen.map((j) => [j.key, j.payload.order, j.runs])).toEqual([[key, 'o-1', 1]]);
    expect(await effects(key)).toBe(1);
    expect(await store.dueAt(rig.dataSource, topic, key)).toBeUndefined();
    expect(await r.drain(topic)).toBe(0);
  });

  it('moves a job scheduled again under the same key instead of adding one, and cancels it when unscheduled', async () => {
    const { clock, store, topic, runner } = setUp();
    const r = runner();
    r.register(topic, recordAndComplete);
    const key = randomUUID();
    const at = (ms: number) => new Date(clock.now().getTime() + ms);
    await store.schedule(rig.dataSource, { topic, key, dueAt: at(HOUR) });
    await store.schedule(rig.dataSource, { topic, key, dueAt: at(2 * HOUR) });
    expect(await store.dueAt(rig.dataSource, topic, key)).toEqual(at(2 * HOUR));
    clock.advance(HOUR);
    expect(await r.drain(topic)).toBe(0);

    const cancelled = randomUUID();
    await store.schedule(rig.dataSource, { topic, key: cancelled, dueAt: at(HOUR) });
    expect(await store.unschedule(rig.dataSource, topic, cancelled)).toBe(true);
    expect(await store.unschedule(rig.dataSource, topic, cancelled)).toBe(false);

    clock.advance(2 * HOUR);
    expect(await r.drain(topic)).toBe(1);
    expect(await effects(key)).toBe(1);
    expect(await effects(cancelled)).toBe(0);
  });

  it('replaces a group in one statement: cancels what it had, moves a key scheduled again, reports both', async () => {
    const { clock, store, topic } = setUp();
    const at = (ms: number) => new Date(clock.now().getTime() + ms);
    const group = randomUUID();
    const [leaving, staying, loose, fresh] = ['leaving', 'staying', 'loose', 'fresh'].map((k) => `${group}:${k}`);
    await store.schedule(rig.dataSource, { topic, key: leaving, group, dueAt: at(HOUR) });
    await store.schedule(rig.dataSource, { topic, key: staying, group, dueAt: at(HOUR) });
    await store.schedule(rig.dataSource, { topic, key: loose, dueAt: at(HOUR) });
    await store.schedule(rig.dataSource, { topic, key: `${randomUUID()}:other`, group: randomUUID(), dueAt: at(HOUR) });

    const cancelled = await store.replace(rig.dataSource, {
      topic,
      cancelGroup: group,
      cancel: [loose],
      schedule: [
        { key: staying, group, dueAt: at(3 * HOUR) },
        { key: fresh, group, dueAt: at(2 * HOUR) },
      ],
    });
    expect(cancelled.sort()).toEqual([leaving, loose, staying].sort());
    expect(await store.dueAt(rig.dataSource, topic, leaving)).toBeUndefined();
    expect(await store.dueAt(rig.dataSource, topic, loose)).toBeUndefined();
    expect(await store.dueAt(rig.dataSource, topic, staying)).toEqual(at(3 * HOUR));
    expect(await store.dueAt(rig.dataSource, topic, fresh)).toEqual(at(2 * HOUR));
    expect(
      await rig.count(`SELECT count(*) AS n FROM scheduled_jobs WHERE topic = '${topic}' AND group_key <> '${group}'`),
    ).toBe(1);

    // Without a group to cancel, scheduling a key again only moves it: nothing is reported cancelled.
    expect(await store.replace(rig.dataSource, { topic, schedule: [{ key: fresh, group, dueAt: at(HOUR) }] })).toEqual(
      [],
    );
    expect(await store.dueAt(rig.dataSource, topic, fresh)).toEqual(at(HOUR));
    expect(await store.replace(rig.dataSource, { topic })).toEqual([]);
  });

  it('runs each job once when several replicas claim at the same time', async () => {
    const { clock, store, topic, runner } = setUp();
    const keys = Array.from({ length: 200 }, () => randomUUID());
    for (const key of keys) await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now() });
    const replicas = [runner(), runner(), runner()];
    for (const r of replicas) r.register(topic, recordAndComplete, { concurrency: 5 });

    await Promise.all(replicas.map((r) => r.drain(topic)));

    const rows = await rig.dataSource.query<{ job_key: string; n: number }[]>(
      `SELECT job_key, count(*)::int AS n FROM job_effects WHERE job_key = ANY($1) GROUP BY job_key`,
      [keys],
    );
    expect(rows.length).toBe(keys.length);
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
  });

  it("runs a job again when the runner that claimed it died, and the dead runner's claim can no longer settle", async () => {
    const { clock, store, topic, runner } = setUp();
    const key = randomUUID();
    await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now() });
    // A runner claims the job and dies before settling: its lease is all that is left of it.
    const [dead] = await store.claim(rig.dataSource, topic, { limit: 1, perGroup: 1, leaseMs: 60_000 });
    expect(dead.key).toBe(key);

    const r = runner();
    r.register(topic, recordAndComplete, { leaseMs: 60_000 });
    expect(await r.drain(topic)).toBe(0);
    clock.advance(60_000);
    expect(await r.drain(topic)).toBe(1);
    expect(await effects(key)).toBe(1);
    const [{ run }] = await rig.dataSource.query<
      {
        run: number;
      }[]
    >(`SELECT run FROM job_effects WHERE job_key = $1`, [key]);
    expect(run).toBe(2);

    await expect(
      rig.dataSource.transaction(async (tx) => {
        await tx.query(`INSERT INTO job_effects (job_key, run) VALUES ($1, 1)`, [key]);
        await store.complete(tx, dead);
      }),
    ).rejects.toBeInstanceOf(JobLeaseLost);
    expect(await effects(key)).toBe(1);
  });

  it('rolls back the work of a run whose job was rescheduled while it ran', async () => {
    const { clock, store, topic, runner } = setUp();
    const key = randomUUID();
    await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now() });
    const r = runner();
    r.register(topic, async (job, context) => {
      // The owner of the work moves the job on (say, its state changed) while this run is under way.
      await store.schedule(rig.dataSource, { topic, key: job.key, dueAt: new Date(clock.now().getTime() + HOUR) });
      await recordAndComplete(job, context);
    });

    expect(await r.drain(topic)).toBe(1);
    expect(await effects(key)).toBe(0);
    expect(await store.dueAt(rig.dataSource, topic, key)).toEqual(new Date(clock.now().getTime() + HOUR));
  });

  it('puts a failing job back with a growing delay, keeping its payload, until it succeeds', async () => {
    const { clock, store, topic, runner } = setUp();
    const key = randomUUID();
    await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now(), payload: { n: 7 } });
    let failures = 2;
    const runs: number[] = [];
    const r = runner();
    r.register<{ n: number }>(
      topic,
      async (job, context) => {
        runs.push(job.runs);
        expect(job.payload).toEqual({ n: 7 });
        if (failures-- > 0) throw new Error('the endpoint is down');
        await recordAndComplete(job, context);
      },
      { backoff: (n) => n * 10_000 },
    );

    expect(await r.drain(topic)).toBe(1);
    clock.advance(9_999);
    expect(await r.drain(topic)).toBe(0);
    clock.advance(1);
    expect(await r.drain(topic)).toBe(1);
    clock.advance(20_000);
    expect(await r.drain(topic)).toBe(1);
    expect(runs).toEqual([1, 2, 3]);
    expect(await effects(key)).toBe(1);
    expect(logged.some((e) => e.key === key && e.reason === 'the endpoint is down')).toBe(true);
  });

  it('retries at the time the handler chooses, with the payload it gives', async () => {
    const { clock, store, topic, runner } = setUp();
    const key = randomUUID();
    await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now(), payload: { attempt: 1 } });
    const attempts: number[] = [];
    const r = runner();
    r.register<{ attempt: number }>(topic, async (job, context) => {
      attempts.push(job.payload.attempt);
      await rig.dataSource.transaction(async (tx) => {
        if (job.payload.attempt < 3)
          await context.retryAt(tx, new Date(clock.now().getTime() + 4 * 60_000), { attempt: job.payload.attempt + 1 });
        else await context.complete(tx);
      });
    });

    await r.drain(topic);
    clock.advance(4 * 60_000);
    await r.drain(topic);
    clock.advance(4 * 60_000);
    await r.drain(topic);
    clock.advance(HOUR);
    expect(await r.drain(topic)).toBe(0);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('keeps a busy group within its limit while other groups run', async () => {
    const { clock, store, topic, runner } = setUp();
    const slow = Array.from({ length: 10 }, () => randomUUID());
    const fast = Array.from({ length: 5 }, () => randomUUID());
    for (const key of slow) await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now(), group: 'slow' });
    // Due later than every slow job, so a scheduler that served the oldest first would reach them last.
    clock.advance(1);
    for (const key of fast) await store.schedule(rig.dataSource, { topic, key, dueAt: clock.now(), group: 'fast' });

    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let slowInFlight = 0;
    let slowPeak = 0;
    const r = runner();
    r.register(
      topic,
      async (job, context) => {
        if (job.group === 'slow') {
          slowPeak = Math.max(slowPeak, ++slowInFlight);
          await blocked;
          slowInFlight--;
        }
        await recordAndComplete(job, context);
      },
      { concurrency: 6, perGroup: 2 },
    );
    r.start(20);
    try {
      await waitFor(
        async () => {
          const done = await Promise.all(fast.map(effects));
          return done.every((n) => n === 1) || undefined;
        },
        { what: 'every job of the fast group to run while the slow group is stuck' },
      );
      expect(slowPeak).toBe(2);
      release();
      await waitFor(
        async () => {
          const done = await Promise.all(slow.map(effects));
          return done.every((n) => n === 1) || undefined;
        },
        { what: 'the slow group to finish once released' },
      );
      expect(slowPeak).toBe(2);
    } finally {
      release();
      await r.stop();
    }
  });
});
