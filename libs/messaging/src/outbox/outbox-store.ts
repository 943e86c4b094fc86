/**
 * SQL of the outbox, in one place. Every statement is a single round trip:
 * - append: one multi-row INSERT of the transaction's messages. No NOTIFY in the business transaction: a commit that
 *   notifies holds PostgreSQL's global notify lock across its WAL flush, which serialised every writer's commits
 *   (measured at half the commit rate, bench/RESULTS.md); the writing process hands its rows to its own relay instead.
 *   The INSERT may also reserve the rows for that relay (a lease, set in the same statement): a reserved row is
 *   published straight from memory after the commit and never claimed, unless the lease runs out first (the process
 *   died), when the poll takes it like any other;
 * - claim: takes a lease on a batch with FOR UPDATE SKIP LOCKED, so any number of relays share the table without
 *   blocking each other and no transaction stays open while the broker confirms;
 * - confirmed: one DELETE per batch (or, to keep sent rows for inspection, one UPDATE marking them sent);
 * - release: one UPDATE per batch.
 *
 * Per-key order: a row is claimable only when no earlier unsent row has the same ordering key (the order id), so
 * one order's messages leave in the order they were written while different orders flow in parallel. A row is
 * reserved at insert only when no unsent row of its key exists then, so a reserved row never overtakes an earlier
 * one; rows of one transaction are published together, in the order written, on one channel.
 */

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

/** An outbox row as written: its id, and whether the writer's own relay holds it (see `appendToOutbox`). */
export interface AppendedRow extends OutboxRow {
  id: string;
  reserved: boolean;
}

/**
 * Inserts a transaction's messages. With `reserveMs`, rows due at once whose ordering key has no unsent row yet are
 * leased to the caller's relay for that long, in the same statement; the others (and all of them without
 * `reserveMs`) are left to the relay's claim.
 */
export async function appendToOutbox(
  query: Query,
  rows: readonly OutboxRow[],
  reserveMs?: number,
): Promise<AppendedRow[]> {
  if (rows.length === 0) return [];
  const delays = rows.map((r) => Math.max(0, Math.round(r.delayMs ?? 0)));
  // A key with a delayed row in this transaction keeps all its rows on the claim path, which keeps them in order.
  const delayedKeys = new Set(rows.filter((r, i) => delays[i] > 0 && r.orderingKey !== null).map((r) => r.orderingKey));
  const reservable = rows.map((r, i) => reserveMs !== undefined && delays[i] === 0 && !delayedKeys.has(r.orderingKey));
  const inserted = (await query(
    `INSERT INTO outbox_messages (message_id, exchange, routing_key, ordering_key, properties, body, available_at, lease_until)
     SELECT m, e, r, o, p, b, clock_timestamp() + d * interval '1 millisecond',
            CASE WHEN v AND (o IS NULL OR NOT EXISTS (
                   SELECT 1 FROM outbox_messages AS u WHERE u.ordering_key = o AND u.sent_at IS NULL))
                 THEN clock_timestamp() + $9::int * interval '1 millisecond' END
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::bytea[], $7::int[], $8::bool[])
          AS t(m, e, r, o, p, b, d, v)
     RETURNING id, message_id, lease_until IS NOT NULL AS reserved`,
    [
      rows.map((r) => r.messageId),
      rows.map((r) => r.exchange),
      rows.map((r) => r.routingKey),
      rows.map((r) => r.orderingKey),
      rows.map((r) => JSON.stringify(r.properties)),
      rows.map((r) => r.body),
      delays,
      reservable,
      reserveMs ?? 0,
    ],
  )) as { id: string; message_id: string; reserved: boolean }[];
  const byMessage = new Map(inserted.map((r) => [r.message_id, r]));
  return rows.map((row) => {
    const written = byMessage.get(row.messageId);
    if (!written) throw new Error(`outbox row for message ${row.messageId} was not written`);
    return { ...row, id: String(written.id), reserved: written.reserved };
  });
}

/**
 * The batch's ids are gathered first, as an array, so the UPDATE reaches its rows by primary key: as a join, the
 * planner sometimes hashed the whole primary key index on every claim.
 */
export const CLAIM_SQL = `
  UPDATE outbox_messages AS o
  SET lease_until = clock_timestamp() + $2 * interval '1 millisecond'
  WHERE o.id = ANY (ARRAY(
    SELECT c.id FROM outbox_messages AS c
    WHERE c.sent_at IS NULL
      AND c.available_at <= clock_timestamp()
      AND (c.lease_until IS NULL OR c.lease_until < clock_timestamp())
      AND NOT EXISTS (
        SELECT 1 FROM outbox_messages AS earlier
        WHERE earlier.ordering_key = c.ordering_key AND earlier.sent_at IS NULL AND earlier.id < c.id)
    ORDER BY c.id
    LIMIT $1
    FOR UPDATE SKIP LOCKED))
  RETURNING o.id, o.message_id, o.exchange, o.routing_key, o.properties, o.body, o.available_at, o.publish_attempts`;

/** Confirmed rows, deleted: nothing reads a sent row again, and a delete writes no new row version or index entry. */
export const DELETE_SENT_SQL = `DELETE FROM outbox_messages WHERE id = ANY($1::bigint[])`;

/** Confirmed rows, kept for inspection until the pruner deletes them (`keepSent`). */
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
