/**
 * Saga instances and their history in PostgreSQL (`saga_instances`, `saga_history`), through whatever executes SQL
 * it is given: the unit of work's transaction for writes, the data source for the read API.
 *
 * Guarantee: an update is applied only to the version it was decided on. `update` matches `version = expected` and
 * bumps it; if a concurrent transaction got there first (it changed the row, or created it), nothing matches and
 * `SagaConcurrencyConflict` rolls the whole unit of work back, to be retried from a fresh load. The row lock taken
 * by the first writer makes the second wait and then see the new version, so of two concurrent decisions on one
 * version exactly one commits, and the other is never lost, only redone. History rows are written by the same
 * executor, hence in the same transaction: there is no history of a change that did not commit.
 */
import { TransientError } from '@orderflow/messaging';
import { decodeCursor, encodeCursor } from '@orderflow/platform';
import { FINAL, INITIAL } from '../definition/saga-definition.js';
import { InvalidRequest } from '@orderflow/platform/domain-errors';

/** What runs SQL: a TypeORM EntityManager (a unit of work's `manager`) or DataSource both fit. */
export interface SqlExecutor {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

export type SagaHistoryKind =
  | 'event'
  | 'transition'
  | 'command'
  | 'published'
  | 'ignored'
  | 'unexpected'
  /** A deadline scheduled or cancelled (its firing is an `event` of the deadline's type). */
  | 'deadline'
  /** An operator's action, with who and why. */
  | 'operator';

export interface SagaHistoryRecord {
  readonly kind: SagaHistoryKind;
  readonly messageType: string;
  readonly messageId?: string;
  readonly fromState?: string;
  readonly toState?: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface SagaHistoryEntry extends SagaHistoryRecord {
  /** The entry's position in the instance's history, from 1. */
  readonly id: number;
  /** When the step that wrote it committed its history: ISO 8601, UTC, microseconds. */
  readonly at: string;
}

export interface SagaSnapshot {
  readonly sagaType: string;
  readonly correlationId: string;
  readonly state: string;
  readonly version: number;
  readonly data: unknown;
  /** The parts of a composite its state waits for that have arrived (empty when it waits for none). */
  readonly arrived: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Set when the instance reached `Final`. */
  readonly completedAt: string | null;
}

/**
 * An instance with its history. Events can arrive for an order the saga never started (they are recorded as
 * unexpected in `Initial`): then the view has that history, state `Initial`, version 0 and no data or timestamps.
 */
export type SagaView =
  | (SagaSnapshot & { readonly history: readonly SagaHistoryEntry[] })
  | {
      readonly sagaType: string;
      readonly correlationId: string;
      readonly state: typeof INITIAL;
      readonly version: 0;
      readonly data: null;
      readonly arrived: readonly [];
      readonly createdAt: null;
      readonly updatedAt: null;
      readonly completedAt: null;
      readonly history: readonly SagaHistoryEntry[];
    };

export interface SagaListQuery {
  readonly state?: string;
  /** Created at or after this instant (ISO 8601). */
  readonly since?: string;
  /** Created before this instant (ISO 8601). */
  readonly until?: string;
  /** The correlation id starts with this: lower-case hex digits and dashes. */
  readonly correlationIdPrefix?: string;
  /**
   * The instance's data holds this text (case-insensitive) at one of these paths: the saga's user says where its
   * data keeps a reason, the store does not know.
   */
  readonly dataText?: { readonly paths: readonly (readonly string[])[]; readonly contains: string };
  /** 1 to 500; 50 if omitted. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface SagaPage {
  /** Oldest first: in a list by state, what has waited longest comes first. */
  readonly items: readonly SagaSnapshot[];
  readonly nextCursor?: string;
}

/**
 * Retryable, not permanent: the consumer's retry path runs the message again from scratch, which loads the
 * version that won and decides again on it.
 */
export class SagaConcurrencyConflict extends TransientError {
  override name = 'SagaConcurrencyConflict';
  constructor(
    readonly sagaType: string,
    readonly correlationId: string,
    /** The version the losing decision was made on; null when it tried to create the instance. */
    readonly expectedVersion: number | null,
  ) {
    super(
      expectedVersion === null
        ? `saga ${sagaType} ${correlationId} was created concurrently; the message will be retried`
        : `saga ${sagaType} ${correlationId} changed after version ${expectedVersion} was loaded; the message will be retried`,
    );
  }
}

export class InvalidSagaListQuery extends InvalidRequest {
  override name = 'InvalidSagaListQuery';
}

/**
 * Instances not yet completed, by saga type and state: what is in flight. Completed (`Final`) rows are kept for the
 * retention period, so counting them would cost more each scrape; how many completed is `transitions_total{to="Final"}`.
 */
export const SAGAS_IN_FLIGHT_SQL = `SELECT saga_type, state, count(*)::int AS count
  FROM saga_instances WHERE completed_at IS NULL GROUP BY saga_type, state`;

const MAX_LIST_LIMIT = 500;
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const snapshotColumns = (t: string) => `${t}.saga_type, ${t}.correlation_id, ${t}.state, ${t}.version, ${t}.data,
  ${t}.arrived, ${iso(`${t}.created_at`)} AS created_at, ${iso(`${t}.updated_at`)} AS updated_at,
  ${iso(`${t}.completed_at`)} AS completed_at`;

interface SnapshotRow {
  saga_type: string;
  correlation_id: string;
  state: string;
  version: number;
  data: unknown;
  arrived: string[];
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

type Nullable<T> = { [K in keyof T]: T[K] | null };

interface HistoryJson {
  at: string;
  kind: SagaHistoryKind;
  message_type: string;
  message_id: string | null;
  from_state: string | null;
  to_state: string | null;
  detail: Record<string, unknown>;
}

export class SagaStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** The instance, and how long it has been in its state by the database's clock (unknown for rows older than that). */
  async load<D>(
    sagaType: string,
    correlationId: string,
  ): Promise<{ state: string; data: D; version: number; arrived: string[]; secondsInState?: number } | undefined> {
    const rows = await this.sql.query<
      { state: string; data: D; version: number; arrived: string[]; seconds_in_state: number | null }[]
    >(
      `SELECT state, data, version, arrived,
              extract(epoch FROM clock_timestamp() - state_entered_at)::float8 AS seconds_in_state
         FROM saga_instances WHERE saga_type = $1 AND correlation_id = $2`,
      [sagaType, correlationId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const { seconds_in_state, ...instance } = row;
    return seconds_in_state === null ? instance : { ...instance, secondsInState: seconds_in_state };
  }

  /**
   * Inserts version 1, with the history records of the step that created it, in one statement; a concurrent creator
   * that committed (or commits) first makes this a conflict, and then no history is written either.
   */
  async create(
    sagaType: string,
    correlationId: string,
    state: string,
    data: unknown,
    history: readonly SagaHistoryRecord[] = [],
  ): Promise<number> {
    const rows = await this.sql.query<{ version: number }[]>(
      // One reading of the clock: two clock_timestamp() calls can differ by a microsecond, and a new instance's
      // created, updated and entered times must be the same instant.
      `WITH now AS (SELECT clock_timestamp() AS at),
       written AS (
         INSERT INTO saga_instances
           (saga_type, correlation_id, state, data, version, created_at, updated_at, state_entered_at, completed_at)
         SELECT $1, $2, $3::text, $4::jsonb, 1, now.at, now.at, now.at, CASE WHEN $3::text = '${FINAL}' THEN now.at END
           FROM now
         ON CONFLICT DO NOTHING
         RETURNING version),
       ${historyCte('$5')}
       SELECT version FROM written`,
      [sagaType, correlationId, state, JSON.stringify(data), historyJson(history)],
    );
    if (rows.length === 0) throw new SagaConcurrencyConflict(sagaType, correlationId, null);
    return rows[0].version;
  }

  /**
   * Writes the new state, data and arrived composite parts over `expectedVersion`, with the step's history records,
   * in one statement, and returns the new version; or throws a conflict, having written nothing.
   */
  async update(
    sagaType: string,
    correlationId: string,
    expectedVersion: number,
    state: string,
    data: unknown,
    history: readonly SagaHistoryRecord[] = [],
    arrived: readonly string[] = [],
  ): Promise<number> {
    // Wrapped in a SELECT so that every driver returns plain rows (TypeORM returns [rows, count] for an UPDATE).
    const rows = await this.sql.query<{ version: number }[]>(
      `WITH written AS (
         UPDATE saga_instances
            SET state = $4::text, data = $5::jsonb, arrived = $7::text[], version = version + 1,
                updated_at = clock_timestamp(),
                state_entered_at = CASE WHEN state = $4::text THEN state_entered_at ELSE clock_timestamp() END,
                completed_at = CASE WHEN $4::text = '${FINAL}' THEN clock_timestamp() END
          WHERE saga_type = $1 AND correlation_id = $2 AND version = $3
         RETURNING version),
       ${historyCte('$6')}
       SELECT version FROM written`,
      [sagaType, correlationId, expectedVersion, state, JSON.stringify(data), historyJson(history), arrived],
    );
    if (rows.length === 0) throw new SagaConcurrencyConflict(sagaType, correlationId, expectedVersion);
    return rows[0].version;
  }

  /** Appends one step's records, in the order given, as one row. */
  async appendHistory(sagaType: string, correlationId: string, records: readonly SagaHistoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.sql.query(`INSERT INTO saga_history (saga_type, correlation_id, records) VALUES ($1, $2, $3::jsonb)`, [
      sagaType,
      correlationId,
      historyJson(records),
    ]);
  }

  /** The instance and its history, read in one statement so the two agree. */
  async find(sagaType: string, correlationId: string): Promise<SagaView | undefined> {
    const rows = await this.sql.query<(Nullable<SnapshotRow> & { history: HistoryJson[] })[]>(
      `SELECT ${snapshotColumns('i')},
              COALESCE((SELECT jsonb_agg(r || jsonb_build_object('at', ${iso('h.at')}) ORDER BY h.id, x.n)
                          FROM saga_history h, jsonb_array_elements(h.records) WITH ORDINALITY AS x(r, n)
                         WHERE h.saga_type = $1 AND h.correlation_id = $2), '[]') AS history
         FROM (SELECT 1) AS one
         LEFT JOIN saga_instances i ON i.saga_type = $1 AND i.correlation_id = $2`,
      [sagaType, correlationId],
    );
    const row = rows[0];
    const history = row.history.map((h, i) => toHistoryEntry(h, i + 1));
    if (row.state === null) {
      if (history.length === 0) return undefined;
      return {
        sagaType,
        correlationId,
        state: INITIAL,
        version: 0,
        data: null,
        arrived: [],
        createdAt: null,
        updatedAt: null,
        completedAt: null,
        history,
      };
    }
    return { ...toSnapshot(row as SnapshotRow), history };
  }

  async list(sagaType: string, query: SagaListQuery = {}): Promise<SagaPage> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new InvalidSagaListQuery(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, not ${limit}`);
    }
    const where = ['i.saga_type = $1'];
    const params: unknown[] = [sagaType];
    if (query.state !== undefined) {
      params.push(query.state);
      where.push(`i.state = $${params.length}`);
    }
    if (query.since !== undefined) {
      params.push(instantOf(query.since, 'since'));
      where.push(`i.created_at >= $${params.length}::timestamptz`);
    }
    if (query.until !== undefined) {
      params.push(instantOf(query.until, 'until'));
      where.push(`i.created_at < $${params.length}::timestamptz`);
    }
    if (query.correlationIdPrefix !== undefined) {
      if (!CORRELATION_PREFIX.test(query.correlationIdPrefix)) {
        throw new InvalidSagaListQuery('an id prefix is 1 to 36 lower-case hex digits and dashes');
      }
      params.push(`${query.correlationIdPrefix}%`);
      where.push(`i.correlation_id::text LIKE $${params.length}`);
    }
    if (query.dataText !== undefined) {
      const { paths, contains } = query.dataText;
      if (paths.length === 0 || contains.length === 0) {
        throw new InvalidSagaListQuery('a data text filter needs a path and a text');
      }
      params.push(`%${contains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const pattern = params.length;
      const matches = paths.map((path) => {
        params.push(path);
        return `(i.data #>> $${params.length}::text[]) ILIKE $${pattern}`;
      });
      where.push(`(${matches.join(' OR ')})`);
    }
    if (query.cursor !== undefined) {
      const [createdAt, correlationId] = positionOf(query.cursor);
      params.push(createdAt, correlationId);
      where.push(`(i.created_at, i.correlation_id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    // Qualified columns: unqualified, ORDER BY would sort by the text `created_at` of the select list.
    const rows = await this.sql.query<SnapshotRow[]>(
      `SELECT ${snapshotColumns('i')} FROM saga_instances i WHERE ${where.join(' AND ')}
        ORDER BY i.created_at, i.correlation_id LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(toSnapshot);
    const last = items.at(-1);
    return rows.length > limit && last ? { items, nextCursor: cursorAfter(last) } : { items };
  }

  /**
   * Deletes up to `batchSize` instances that reached `Final` more than `retentionMs` ago, with all their history, in
   * one statement (its own short transaction when run on the data source); returns how many instances went, by saga
   * type. Only `Final` instances qualify: running or parked ones are kept however old they are.
   *
   * `SKIP LOCKED`: concurrent prunes take disjoint batches and never wait for each other. The cutoff is read from the
   * statement's clock (`now()`, stable) rather than `clock_timestamp()` (volatile), because only a stable bound can
   * end an index range scan: a volatile one is a filter, and the last, short batch would read every completed row.
   */
  async pruneCompleted(retentionMs: number, batchSize: number): Promise<{ sagaType: string; count: number }[]> {
    return this.sql.query<{ sagaType: string; count: number }[]>(
      `WITH doomed AS MATERIALIZED (
         SELECT saga_type, correlation_id FROM saga_instances
          WHERE state = '${FINAL}' AND completed_at < now() - $1::float8 * interval '1 millisecond'
          ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED),
       history AS (
         DELETE FROM saga_history h USING doomed d
          WHERE h.saga_type = d.saga_type AND h.correlation_id = d.correlation_id),
       instances AS (
         DELETE FROM saga_instances i USING doomed d
          WHERE i.saga_type = d.saga_type AND i.correlation_id = d.correlation_id
         RETURNING i.saga_type)
       SELECT saga_type AS "sagaType", count(*)::int AS count FROM instances GROUP BY saga_type`,
      [retentionMs, batchSize],
    );
  }
}

/** A step's history records as one JSON parameter, so they go in one statement whatever their number. */
function historyJson(records: readonly SagaHistoryRecord[]): string {
  return JSON.stringify(
    records.map((r) => ({
      kind: r.kind,
      message_type: r.messageType,
      message_id: r.messageId ?? null,
      from_state: r.fromState ?? null,
      to_state: r.toState ?? null,
      detail: r.detail,
    })),
  );
}

/**
 * The step's history row as a CTE of a statement whose CTE `written` returns the instance row it wrote: nothing is
 * recorded when the write matched nothing (a conflict), nor when the step has no records. Saga type and correlation
 * id are $1 and $2.
 */
function historyCte(records: string): string {
  return `history AS (
         INSERT INTO saga_history (saga_type, correlation_id, records)
         SELECT $1, $2, ${records}::jsonb
          WHERE EXISTS (SELECT 1 FROM written) AND jsonb_array_length(${records}::jsonb) > 0)`;
}

function toSnapshot(row: SnapshotRow): SagaSnapshot {
  return {
    sagaType: row.saga_type,
    correlationId: row.correlation_id,
    state: row.state,
    version: row.version,
    data: row.data,
    arrived: row.arrived,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

function toHistoryEntry(h: HistoryJson, position: number): SagaHistoryEntry {
  return {
    id: position,
    at: h.at,
    kind: h.kind,
    messageType: h.message_type,
    ...(h.message_id !== null && { messageId: h.message_id }),
    ...(h.from_state !== null && { fromState: h.from_state }),
    ...(h.to_state !== null && { toState: h.to_state }),
    detail: h.detail,
  };
}

// The cursor carries created_at to the microsecond (a JS Date would cut it to the millisecond and skip or repeat
// rows created in the same millisecond) and the correlation id that breaks ties.
function cursorAfter(last: SagaSnapshot): string {
  return encodeCursor({ createdAt: last.createdAt, id: last.correlationId });
}

const CORRELATION_PREFIX = /^[0-9a-f-]{1,36}$/;

/** A time bound as PostgreSQL reads it: refused here if JavaScript cannot read it either. */
function instantOf(value: string, name: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidSagaListQuery(`${name} is not an ISO 8601 instant`);
  return new Date(time).toISOString();
}

function positionOf(cursor: string): [string, string] {
  const position = decodeCursor(cursor);
  if (!position) throw new InvalidSagaListQuery('cursor is not one this API returned');
  return [position.createdAt, position.id];
}
