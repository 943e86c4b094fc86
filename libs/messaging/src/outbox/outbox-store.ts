/**
 * SQL of the outbox, in one place. Every statement is a single round trip:
 * - append: one multi-row INSERT of the transaction's messages. No NOTIFY in the business transaction: a commit that
 *   notifies holds PostgreSQL's global notify lock across its WAL flush, which serialised every writer's commits
 *   (measured at half the commit rate, bench/RESULTS.md); the writing process wakes its own relay instead;
 * - claim: takes a lease on a batch with FOR UPDATE SKIP LOCKED, so any number of relays share the table without
 *   blocking each other and no transaction stays open while the broker confirms;
 * - markSent / release: one UPDATE per batch.
 *
 * Per-key order: a row is claimable only when no earlier unsent row has the same ordering key (the order id), so
 * one order's messages leave in the order they were written while different orders flow in parallel.
 */
export const OUTBOX_CHANNEL = 'orderflow_outbox';

export type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

export interface OutboxRow {
  messageId: string;
  exchange: string;
  routingKey: string;
  /** Rows with the same key are published in the order written; null for rows that need no order (retries). */
  orderingKey: string | null;
  properties: Record<string, unknown>;
  body: Buffer;
  /** Publish no earlier than this many milliseconds after commit (delayed retries). */
  delayMs?: number;
}

export interface ClaimedRow {
  id: string;
  message_id: string;
  exchange: string;
  routing_key: string;
  properties: Record<string, unknown>;
  body: Buffer;
  /** When the row became due: its commit, or the end of a retry's delay. */
  available_at: Date;
  publish_attempts: number;
}

export async function appendToOutbox(query: Query, rows: readonly OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await query(
    `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body, available_at)
     SELECT m, e, r, o, p, b, clock_timestamp() + d * interval '1 millisecond'
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::bytea[], $7::int[]) AS t(m, e, r, o, p, b, d)`,
    [
      rows.map((r) => r.messageId),
      rows.map((r) => r.exchange),
      rows.map((r) => r.routingKey),
      rows.map((r) => r.orderingKey),
      rows.map((r) => JSON.stringify(r.properties)),
      rows.map((r) => r.body),
      rows.map((r) => Math.max(0, Math.round(r.delayMs ?? 0))),
    ],
  );
}

export const CLAIM_SQL = `
  UPDATE outbox_messages AS o
  SET lease_until = clock_timestamp() + $2 * interval '1 millisecond'
  FROM (
    SELECT c.id FROM outbox_messages AS c
    WHERE c.sent_at IS NULL
      AND c.available_at <= clock_timestamp()
      AND (c.lease_until IS NULL OR c.lease_until < clock_timestamp())
      AND NOT EXISTS (
        SELECT 1 FROM outbox_messages AS earlier
        WHERE earlier.ordering_key = c.ordering_key AND earlier.sent_at IS NULL AND earlier.id < c.id)
    ORDER BY c.id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ) AS claimed
  WHERE o.id = claimed.id
  RETURNING o.id, o.message_id, o.exchange, o.routing_key, o.properties, o.body, o.available_at, o.publish_attempts`;

export const MARK_SENT_SQL = `
  UPDATE outbox_messages SET sent_at = clock_timestamp(), lease_until = NULL WHERE id = ANY($1::bigint[])`;

/** Gives rows back at once: the broker or the channel failed, not the message (the relay itself backs off). */
export const RELEASE_SQL = `
  UPDATE outbox_messages SET lease_until = NULL, last_error = $2 WHERE id = ANY($1::bigint[])`;

/** Puts rows the broker could not route aside, to be tried again after a backoff that grows with each failure. */
export const DEFER_SQL = `
  UPDATE outbox_messages
  SET lease_until = NULL,
      publish_attempts = publish_attempts + 1,
      last_error = $2,
      available_at = clock_timestamp() + least(300000, 100 * power(2, least(publish_attempts, 12))) * interval '1 millisecond'
  WHERE id = ANY($1::bigint[])`;

/** Counts rows that are due: a delayed retry waiting for its time is not lag. Age is measured from when a row became due. */
export const PENDING_STATS_SQL = `
  SELECT count(*)::int AS pending,
         coalesce(extract(epoch FROM clock_timestamp() - min(available_at)), 0)::float8 AS oldest_age_seconds
  FROM outbox_messages WHERE sent_at IS NULL AND available_at <= clock_timestamp()`;

/** Deletes up to $2 rows sent more than $1 ms ago; SKIP LOCKED so a prune never waits on, or blocks, a relay. */
export const PRUNE_SENT_SQL = `
  DELETE FROM outbox_messages WHERE id IN (
    SELECT id FROM outbox_messages
    WHERE sent_at < clock_timestamp() - $1 * interval '1 millisecond'
    ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;

export const PRUNE_INBOX_SQL = `
  DELETE FROM inbox_messages WHERE (consumer, message_id) IN (
    SELECT consumer, message_id FROM inbox_messages
    WHERE received_at < clock_timestamp() - $1 * interval '1 millisecond'
    ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;
