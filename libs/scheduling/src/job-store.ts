/**
 * The durable scheduler's statements. A job is written in the caller's transaction, so it exists if and only if the
 * state change that called for it committed; a restart of any process loses none, because the row is the job.
 *
 * A job is claimed by leasing it (a committed lease, not a lock held across the work), so the work itself — an HTTP
 * call, a saga step — runs outside any transaction and holds no pool connection. A runner that dies mid-work leaves
 * a lease that expires; the job is then claimed again, and whoever owns the work finds in its own records how far
 * the dead runner got. Settling (complete, retry) is checked against the lease token in the worker's own
 * transaction: if the lease expired and another runner took the job, or the job was rescheduled meanwhile, the
 * settle fails and the worker's transaction rolls back, so a job's effect is committed once.
 */
import type { Clock } from './clock.js';

/**
 * Anything that runs SQL and answers with rows: a TypeORM EntityManager (inside a transaction) or DataSource. Every
 * statement that changes rows is wrapped in a SELECT, because TypeORM answers a bare UPDATE or DELETE with
 * [rows, count].
 */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface JobSpec<P = unknown> {
  topic: string;
  /** Unique within the topic: scheduling the same key again moves the job instead of adding one. */
  key: string;
  dueAt: Date;
  payload?: P;
  /** Jobs of one group share a concurrency limit across every replica (see ClaimOptions.perGroup). */
  group?: string;
}

/** A change to several jobs at once, written in one statement (see JobStore.replace). */
export interface JobChange {
  topic: string;
  /** Cancels every job of this group... */
  cancelGroup?: string;
  /** ...and these keys... */
  cancel?: readonly string[];
  /** ...then schedules these (a key cancelled above and scheduled here is moved). */
  schedule?: readonly Omit<JobSpec, 'topic'>[];
}

export interface ClaimedJob<P = unknown> {
  id: string;
  topic: string;
  key: string;
  group?: string;
  payload: P;
  dueAt: Date;
  /** How many times the job has been claimed, this claim included: above 1 after a retry or a lost lease. */
  runs: number;
  leaseToken: string;
  leaseUntil: Date;
}

export interface ClaimOptions {
  limit: number;
  /** At most this many jobs of one group leased at once, across all replicas. */
  perGroup: number;
  leaseMs: number;
}

/** The job was settled by someone else (its lease expired and it was claimed again, or it was rescheduled). */
export class JobLeaseLost extends Error {
  constructor(job: Pick<ClaimedJob, 'topic' | 'key'>) {
    super(`the lease on job ${job.topic}/${job.key} was lost before it was settled`);
  }
}

interface JobRow {
  id: string;
  topic: string;
  key: string;
  group_key: string | null;
  payload: unknown;
  due_at: Date;
  runs: number;
  lease_token: string;
  lease_until: Date;
}

// A rescheduled job drops any lease: the runner working on the old schedule can no longer settle it.
const SCHEDULE_SQL = `
  INSERT INTO scheduled_jobs (topic, key, group_key, payload, due_at)
  VALUES ($1, $2, $3, $4::jsonb, $5)
  ON CONFLICT (topic, key) DO UPDATE
    SET group_key = excluded.group_key, payload = excluded.payload, due_at = excluded.due_at,
        lease_token = NULL, lease_until = NULL`;

// One round trip for a whole change. A key both cancelled and scheduled is kept out of the DELETE (one statement
// cannot delete a row and then conflict with it) and moved by the upsert instead; the upsert's xmax tells whether a
// job was there, so it is reported as cancelled like the deleted ones. The group and the keys are deleted apart, and
// only when given: an OR of the two, or an empty key list, leaves the planner a scan of the whole topic.
function replaceSql(byGroup: boolean, byKey: boolean): string {
  // Each DELETE is qualified by an index of its own: a subquery joined back to the table let a generic plan scan it.
  const deletes = [
    byGroup &&
      `DELETE FROM scheduled_jobs WHERE topic = $1 AND group_key = $2 AND key <> ALL($4::text[]) RETURNING key`,
    byKey &&
      `DELETE FROM scheduled_jobs WHERE topic = $1 AND key = ANY($3::text[]) AND key <> ALL($4::text[])
         AND group_key IS DISTINCT FROM $2 RETURNING key`,
  ].filter((sql): sql is string => typeof sql === 'string');
  const gone = deletes.map((sql, i) => `gone${i} AS (${sql}),`).join('\n  ');
  const goneKeys = deletes.map((_, i) => `SELECT key FROM gone${i}`).join(' UNION ALL ');
  return `
  WITH ${gone}
  put AS (
    INSERT INTO scheduled_jobs (topic, key, group_key, payload, due_at)
    SELECT $1, k, g, p, d FROM unnest($4::text[], $5::text[], $6::jsonb[], $7::timestamptz[]) AS t(k, g, p, d)
    ON CONFLICT (topic, key) DO UPDATE
      SET group_key = excluded.group_key, payload = excluded.payload, due_at = excluded.due_at,
          lease_token = NULL, lease_until = NULL
    RETURNING key, group_key, xmax <> 0 AS moved
  )
  ${goneKeys ? `${goneKeys} UNION ALL ` : ''}SELECT key FROM put WHERE moved AND (key = ANY($3::text[]) OR group_key = $2)`;
}
const REPLACE_SQL = [
  [replaceSql(false, false), replaceSql(false, true)],
  [replaceSql(true, false), replaceSql(true, true)],
];

// Busy groups are counted first and full ones skipped, so a group with a long backlog (a merchant whose endpoint
// is slow) cannot fill the claim window ahead of the others. Due jobs are locked (SKIP LOCKED: replicas claiming at
// once take different jobs) and ranked within their group, so one claim never takes more than a group's free slots.
const CLAIM_SQL = `
  WITH busy AS (
    SELECT group_key, count(*) AS leased FROM scheduled_jobs
     WHERE topic = $1 AND group_key IS NOT NULL AND lease_until > $2
     GROUP BY group_key
  ), due AS (
    SELECT id, group_key, due_at FROM scheduled_jobs
     WHERE topic = $1 AND due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
       AND (group_key IS NULL OR group_key NOT IN (SELECT group_key FROM busy WHERE leased >= $4))
     ORDER BY due_at
     LIMIT $3 * 4
     FOR UPDATE SKIP LOCKED
  ), ranked AS (
    SELECT d.id, d.due_at, d.group_key,
           row_number() OVER (PARTITION BY d.group_key ORDER BY d.due_at) + coalesce(b.leased, 0) AS slot
      FROM due d LEFT JOIN busy b USING (group_key)
  ), chosen AS (
    SELECT id FROM ranked WHERE group_key IS NULL OR slot <= $4 ORDER BY due_at LIMIT $3
  ), claimed AS (
    UPDATE scheduled_jobs j
       SET lease_token = gen_random_uuid(), lease_until = $2::timestamptz + $5 * interval '1 millisecond',
           runs = j.runs + 1
      FROM chosen WHERE j.id = chosen.id
    RETURNING j.id, j.topic, j.key, j.group_key, j.payload, j.due_at, j.runs, j.lease_token, j.lease_until
  )
  SELECT * FROM claimed ORDER BY due_at`;

const OVERDUE_SQL = `
  SELECT topic, count(*)::int AS overdue,
         coalesce(extract(epoch FROM $1::timestamptz - min(due_at)), 0)::float8 AS oldest_seconds
    FROM scheduled_jobs
   WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
   GROUP BY topic`;

export interface OverdueJobs {
  topic: string;
  overdue: number;
  oldest_seconds: number;
}

/** Writes and settles jobs; every statement runs on the connection it is given. */
export class JobStore {
  constructor(private readonly clock: Clock) {}

  async schedule(db: Queryable, job: JobSpec): Promise<void> {
    await db.query(SCHEDULE_SQL, [job.topic, job.key, job.group ?? null, JSON.stringify(job.payload ?? {}), job.dueAt]);
  }

  /**
   * Cancels and schedules in one statement; returns the keys of the jobs cancelled (moved ones included). Runs
   * nothing when the change is empty.
   */
  async replace(db: Queryable, change: JobChange): Promise<string[]> {
    const schedule = change.schedule ?? [];
    if (change.cancelGroup === undefined && !change.cancel?.length && schedule.length === 0) return [];
    const cancel = change.cancel ?? [];
    const sql = REPLACE_SQL[change.cancelGroup === undefined ? 0 : 1][cancel.length === 0 ? 0 : 1];
    const rows = (await db.query(sql, [
      change.topic,
      change.cancelGroup ?? null,
      cancel,
      schedule.map((j) => j.key),
      schedule.map((j) => j.group ?? null),
      schedule.map((j) => JSON.stringify(j.payload ?? {})),
      schedule.map((j) => j.dueAt),
    ])) as { key: string }[];
    return rows.map((r) => r.key);
  }

  /** Cancels a job; true if there was one. A runner working on it can then no longer settle it. */
  async unschedule(db: Queryable, topic: string, key: string): Promise<boolean> {
    const rows = (await db.query(
      `WITH d AS (DELETE FROM scheduled_jobs WHERE topic = $1 AND key = $2 RETURNING id) SELECT id FROM d`,
      [topic, key],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Cancels every job of a group; returns their keys. */
  async unscheduleGroup(db: Queryable, topic: string, group: string): Promise<string[]> {
    const rows = (await db.query(
      `WITH d AS (DELETE FROM scheduled_jobs WHERE topic = $1 AND group_key = $2 RETURNING key) SELECT key FROM d`,
      [topic, group],
    )) as { key: string }[];
    return rows.map((r) => r.key);
  }

  /** The job's due time, or undefined if none is scheduled under that key. */
  async dueAt(db: Queryable, topic: string, key: string): Promise<Date | undefined> {
    const rows = (await db.query(`SELECT due_at FROM scheduled_jobs WHERE topic = $1 AND key = $2`, [topic, key])) as {
      due_at: Date;
    }[];
    return rows[0]?.due_at;
  }

  async claim<P>(db: Queryable, topic: string, options: ClaimOptions): Promise<ClaimedJob<P>[]> {
    const rows = (await db.query(CLAIM_SQL, [
      topic,
      this.clock.now(),
      options.limit,
      options.perGroup,
      options.leaseMs,
    ])) as JobRow[];
    return rows.map((r) => ({
      id: r.id,
      topic: r.topic,
      key: r.key,
      group: r.group_key ?? undefined,
      payload: r.payload as P,
      dueAt: r.due_at,
      runs: r.runs,
      leaseToken: r.lease_token,
      leaseUntil: r.lease_until,
    }));
  }

  /** Deletes the job, provided this claim still holds it; else throws JobLeaseLost. */
  async complete(db: Queryable, job: ClaimedJob): Promise<void> {
    const rows = (await db.query(
      `WITH d AS (DELETE FROM scheduled_jobs WHERE id = $1 AND lease_token = $2 RETURNING id) SELECT id FROM d`,
      [job.id, job.leaseToken],
    )) as unknown[];
    if (rows.length === 0) throw new JobLeaseLost(job);
  }

  /** Puts the job back, due at `dueAt`, provided this claim still holds it; else throws JobLeaseLost. */
  async retryAt(db: Queryable, job: ClaimedJob, dueAt: Date, payload?: unknown): Promise<void> {
    const rows = (await db.query(
      `WITH u AS (
         UPDATE scheduled_jobs
            SET due_at = $3, payload = coalesce($4::jsonb, payload), lease_token = NULL, lease_until = NULL
          WHERE id = $1 AND lease_token = $2
          RETURNING id)
       SELECT id FROM u`,
      [job.id, job.leaseToken, dueAt, payload === undefined ? null : JSON.stringify(payload)],
    )) as unknown[];
    if (rows.length === 0) throw new JobLeaseLost(job);
  }

  /** Due jobs no runner holds, per topic: a backlog an operator should see. */
  async overdue(db: Queryable): Promise<OverdueJobs[]> {
    return (await db.query(OVERDUE_SQL, [this.clock.now()])) as OverdueJobs[];
  }
}
