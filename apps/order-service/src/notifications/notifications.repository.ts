/** Notifications and their delivery attempts in the order service's database. */
import type { EntityManager } from 'typeorm';
import { Notification, type NotificationPayload, type NotificationState, type AttemptOutcome } from './notification.js';
import type { NotificationPolicy, RetrySchedule } from './retry-schedule.js';

interface NotificationRow {
  id: string;
  order_id: string;
  merchant_id: string;
  callback_url: string;
  payload: NotificationPayload;
  schedule: RetrySchedule;
  state: NotificationState;
  attempts: number;
  round_attempts: number;
  next_attempt_at: Date | null;
  created_at: Date;
  settled_at: Date | null;
  version: number;
}

export interface AttemptRecord {
  attempt: number;
  startedAt: Date;
  endedAt?: Date;
  outcome?: AttemptOutcome;
  statusCode?: number;
  latencyMs?: number;
  error?: string;
}

export interface NotificationWithAttempts {
  notification: Notification;
  attempts: AttemptRecord[];
}

export class NotificationChangedConcurrently extends Error {}

const COLUMNS = `id, order_id, merchant_id, callback_url, payload, schedule, state, attempts, round_attempts,
  next_attempt_at, created_at, settled_at, version`;

function toNotification(row: NotificationRow): Notification {
  return Notification.restore({
    id: row.id,
    orderId: row.order_id,
    merchantId: row.merchant_id,
    callbackUrl: row.callback_url,
    payload: row.payload,
    schedule: row.schedule,
    state: row.state,
    attempts: row.attempts,
    roundAttempts: row.round_attempts,
    nextAttemptAt: row.next_attempt_at ?? undefined,
    createdAt: row.created_at,
    settledAt: row.settled_at ?? undefined,
    version: row.version,
  });
}

interface AttemptRow {
  notification_id: string;
  attempt: number;
  started_at: Date;
  ended_at: Date | null;
  outcome: AttemptOutcome | null;
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
}

function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    attempt: row.attempt,
    startedAt: row.started_at,
    ...(row.ended_at && { endedAt: row.ended_at }),
    ...(row.outcome && { outcome: row.outcome }),
    ...(row.status_code !== null && { statusCode: row.status_code }),
    ...(row.latency_ms !== null && { latencyMs: row.latency_ms }),
    ...(row.error !== null && { error: row.error }),
  };
}

export class NotificationsRepository {
  async insert(manager: EntityManager, notification: Notification): Promise<void> {
    const s = notification.snapshot;
    await manager.query(
      `INSERT INTO notifications (${COLUMNS}, sequence)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        s.id,
        s.orderId,
        s.merchantId,
        s.callbackUrl,
        JSON.stringify(s.payload),
        JSON.stringify(s.schedule),
        s.state,
        s.attempts,
        s.roundAttempts,
        s.nextAttemptAt ?? null,
        s.createdAt,
        s.settledAt ?? null,
        s.version,
        s.payload.sequence,
      ],
    );
  }

  /** Saves a change, provided no one else changed the notification since it was read. */
  async update(manager: EntityManager, notification: Notification): Promise<void> {
    const s = notification.snapshot;
    const [, affected] = await manager.query<[unknown, number]>(
      `UPDATE notifications
          SET state = $3, attempts = $4, round_attempts = $5, next_attempt_at = $6, settled_at = $7,
              version = version + 1
        WHERE id = $1 AND version = $2`,
      [s.id, s.version, s.state, s.attempts, s.roundAttempts, s.nextAttemptAt ?? null, s.settledAt ?? null],
    );
    if (affected !== 1) throw new NotificationChangedConcurrently(s.id);
  }

  async find(manager: EntityManager, id: string, lock = false): Promise<Notification | undefined> {
    const [row] = await manager.query<NotificationRow[]>(
      `SELECT ${COLUMNS} FROM notifications WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return row && toNotification(row);
  }

  /** The attempt that began and has not ended: its process stopped mid-attempt, or it is under way now. */
  async openAttempt(manager: EntityManager, id: string): Promise<AttemptRecord | undefined> {
    const [row] = await manager.query<AttemptRow[]>(
      `SELECT * FROM notification_attempts WHERE notification_id = $1 AND ended_at IS NULL`,
      [id],
    );
    return row && toAttempt(row);
  }

  async beginAttempt(manager: EntityManager, id: string, attempt: number, at: Date): Promise<void> {
    await manager.query(
      `INSERT INTO notification_attempts (notification_id, attempt, started_at) VALUES ($1, $2, $3)`,
      [id, attempt, at],
    );
  }

  async endAttempt(
    manager: EntityManager,
    id: string,
    attempt: number,
    end: { outcome: AttemptOutcome; at: Date; statusCode?: number; latencyMs?: number; error?: string },
  ): Promise<void> {
    await manager.query(
      `UPDATE notification_attempts
          SET outcome = $3, ended_at = $4, status_code = $5, latency_ms = $6, error = $7
        WHERE notification_id = $1 AND attempt = $2`,
      [id, attempt, end.outcome, end.at, end.statusCode ?? null, end.latencyMs ?? null, end.error ?? null],
    );
  }

  /** An order's notifications, oldest first, each with its attempts. */
  async forOrder(manager: EntityManager, orderId: string): Promise<NotificationWithAttempts[]> {
    const rows = await manager.query<NotificationRow[]>(
      `SELECT ${COLUMNS} FROM notifications WHERE order_id = $1 ORDER BY sequence`,
      [orderId],
    );
    return this.withAttempts(manager, rows);
  }

  async withAttemptsById(manager: EntityManager, id: string): Promise<NotificationWithAttempts | undefined> {
    const rows = await manager.query<NotificationRow[]>(`SELECT ${COLUMNS} FROM notifications WHERE id = $1`, [id]);
    const [found] = await this.withAttempts(manager, rows);
    return found;
  }

  /** Failed notifications, the most recently given up first: what operators must look at. */
  async failed(manager: EntityManager, limit: number): Promise<NotificationWithAttempts[]> {
    const rows = await manager.query<NotificationRow[]>(
      `SELECT ${COLUMNS} FROM notifications WHERE state = 'FAILED' ORDER BY settled_at DESC LIMIT $1`,
      [limit],
    );
    return this.withAttempts(manager, rows);
  }

  /** The order's merchant (null for orders from before merchants), or undefined when there is no such order. */
  async orderOwner(manager: EntityManager, orderId: string): Promise<{ merchantId: string | null } | undefined> {
    const [row] = await manager.query<{ merchant_id: string | null }[]>(
      `SELECT merchant_id FROM orders WHERE id = $1`,
      [orderId],
    );
    return row && { merchantId: row.merchant_id };
  }

  async merchantPolicy(manager: EntityManager, merchantId: string): Promise<NotificationPolicy | undefined> {
    const [row] = await manager.query<{ notification_policy: NotificationPolicy | null }[]>(
      `SELECT notification_policy FROM merchants WHERE id = $1`,
      [merchantId],
    );
    return row?.notification_policy ?? undefined;
  }

  /** Sets (or, with undefined, clears) the merchant's policy; false when there is no such merchant. */
  async setMerchantPolicy(
    manager: EntityManager,
    merchantId: string,
    policy: NotificationPolicy | undefined,
  ): Promise<boolean> {
    const [, affected] = await manager.query<[unknown, number]>(
      `UPDATE merchants SET notification_policy = $2 WHERE id = $1`,
      [merchantId, policy === undefined ? null : JSON.stringify(policy)],
    );
    return affected === 1;
  }

  async merchantExists(manager: EntityManager, merchantId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(`SELECT 1 FROM merchants WHERE id = $1`, [merchantId]);
    return rows.length === 1;
  }

  private async withAttempts(manager: EntityManager, rows: NotificationRow[]): Promise<NotificationWithAttempts[]> {
    if (rows.length === 0) return [];
    const attempts = await manager.query<AttemptRow[]>(
      `SELECT * FROM notification_attempts WHERE notification_id = ANY($1) ORDER BY attempt`,
      [rows.map((r) => r.id)],
    );
    return rows.map((row) => ({
      notification: toNotification(row),
      attempts: attempts.filter((a) => a.notification_id === row.id).map(toAttempt),
    }));
  }
}
