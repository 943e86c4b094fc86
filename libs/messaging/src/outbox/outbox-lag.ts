/**
 * How far the relay is behind: the age of the oldest outbox row it could send now. A service that sheds load on it
 * stops adding messages to an outbox that already cannot reach the broker in time, so what it did accept still leaves
 * within seconds instead of joining an ever longer queue.
 *
 * Cheap at any backlog, so it can be read every few hundred milliseconds: it looks at no more than the first
 * HEAD_ROWS unsent rows in id order (the relay's own claim order, through the partial index of unsent rows) and takes
 * the oldest of them, so one row that just came back from a retry's backoff at the head does not hide the age of the
 * rows behind it. Rows that wait for an earlier row of the same ordering key are left out, as the relay leaves them:
 * one stuck key is a fault to fix (readiness and `orderflow_outbox_oldest_pending_age_seconds` show it), not a
 * reason to turn every new request away.
 */
import type { BacklogSignal } from '@orderflow/platform';

const HEAD_ROWS = 1_000;

export const OUTBOX_LAG_SQL = `
  SELECT coalesce(extract(epoch FROM clock_timestamp() - min(head.available_at)), 0)::float8 AS lag_seconds
  FROM (
    SELECT c.available_at FROM outbox_messages AS c
    WHERE c.sent_at IS NULL
      AND c.available_at <= clock_timestamp()
      AND NOT EXISTS (
        SELECT 1 FROM outbox_messages AS earlier
        WHERE earlier.ordering_key = c.ordering_key AND earlier.sent_at IS NULL AND earlier.id < c.id)
    ORDER BY c.id
    LIMIT ${HEAD_ROWS}
  ) AS head`;

/** `query` runs SQL on the service's own database (e.g. `dataSource.query.bind(dataSource)`). */
export function outboxLagSignal(
  query: (sql: string) => Promise<{ lag_seconds: number }[]>,
  boundSeconds: number,
): BacklogSignal {
  return {
    name: 'outbox_lag_seconds',
    description: 'the oldest outbox message waiting for the relay',
    unit: 's',
    bound: boundSeconds,
    read: async () => (await query(OUTBOX_LAG_SQL))[0].lag_seconds,
  };
}
