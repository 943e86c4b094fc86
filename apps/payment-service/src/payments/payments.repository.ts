/**
 * Payments in the payment service's own database. A payment about to change is read `FOR UPDATE`: a command, a
 * gateway callback and a follow-up about the same payment take turns, each seeing what the one before it did.
 * (The gateway call some of them make runs while the lock is held, which is why its timeout is short.)
 *
 * A payment's follow-up (Payment: gateway work due later) is saved twice, in one transaction: on the payment's row,
 * where the Payment reads it back, and as a job of the durable scheduler (libs/scheduling), which GatewayFollowUps
 * runs when it falls due. So the job exists if and only if the change that made the work due committed, and it
 * moves or goes with the follow-up (ADR 0021).
 */
import { Injectable } from '@nestjs/common';
import type { UnitOfWork } from '@orderflow/messaging';
import { JobRunner, JobStore } from '@orderflow/scheduling';
import type { EntityManager } from 'typeorm';
import {
  type DeclineCode,
  type FollowUp,
  type FollowUpAction,
  Payment,
  type PaymentState,
  type PaymentStatus,
} from './payment.js';

/** The scheduler topic of gateway follow-ups; a job's key is the payment's id. */
export const GATEWAY_FOLLOW_UP = 'payment.gateway-follow-up';

/** What a follow-up's job carries: the conversation its events belong to. */
export interface FollowUpJob {
  correlationId?: string;
}

interface PaymentRow {
  id: string;
  order_id: string;
  status: PaymentStatus;
  amount: string;
  currency: string;
  payment_token: string | null;
  authorization_id: string | null;
  authorization_requests: number;
  authorized_at: Date | null;
  decline_code: DeclineCode | null;
  decline_reason: string | null;
  void_requested_at: Date | null;
  follow_up: FollowUpAction | null;
  follow_up_due_at: Date | null;
  follow_up_failures: number;
  correlation_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, order_id, status, amount, currency, payment_token, authorization_id, authorization_requests,
  authorized_at, decline_code, decline_reason, void_requested_at, follow_up, follow_up_due_at, follow_up_failures,
  correlation_id, created_at, updated_at`;

function restore(row: PaymentRow): Payment {
  return Payment.restore({
    id: row.id,
    orderId: row.order_id,
    status: row.status,
    amount: Number(row.amount),
    currency: row.currency,
    paymentToken: row.payment_token ?? undefined,
    authorizationId: row.authorization_id ?? undefined,
    authorizationRequests: row.authorization_requests,
    authorizedAt: row.authorized_at?.toISOString(),
    declineCode: row.decline_code ?? undefined,
    declineReason: row.decline_reason ?? undefined,
    voidRequestedAt: row.void_requested_at?.toISOString(),
    followUp:
      row.follow_up && row.follow_up_due_at
        ? { action: row.follow_up, dueAt: row.follow_up_due_at.toISOString(), failures: row.follow_up_failures }
        : undefined,
    correlationId: row.correlation_id ?? undefined,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  });
}

function values(s: Readonly<PaymentState>): unknown[] {
  return [
    s.id,
    s.orderId,
    s.status,
    s.amount,
    s.currency,
    s.paymentToken ?? null,
    s.authorizationId ?? null,
    s.authorizationRequests,
    s.authorizedAt ?? null,
    s.declineCode ?? null,
    s.declineReason ?? null,
    s.voidRequestedAt ?? null,
    s.followUp?.action ?? null,
    s.followUp?.dueAt ?? null,
    s.followUp?.failures ?? 0,
    s.correlationId ?? null,
    s.createdAt,
    s.updatedAt,
  ];
}

@Injectable()
export class PaymentsRepository {
  /** The follow-up each payment was read with, so that saving it writes the job only when the follow-up changed. */
  private readonly storedFollowUps = new WeakMap<Payment, FollowUp | undefined>();

  constructor(
    private readonly jobs: JobStore,
    private readonly runner: JobRunner,
  ) {}

  async insert(uow: UnitOfWork, payment: Payment): Promise<void> {
    await uow.manager.query(
      `INSERT INTO payments (${COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      values(payment.snapshot),
    );
    await this.saveFollowUpJob(uow, payment);
  }

  /** Saves a payment read with `forUpdate`, whose row lock makes the write safe. */
  async update(uow: UnitOfWork, payment: Payment): Promise<void> {
    // Every column but created_at, in the order of COLUMNS: $1 id … $17 updated_at.
    const params = values(payment.snapshot).filter((_, i) => i !== 16);
    await uow.manager.query(
      `UPDATE payments SET status = $3, amount = $4, currency = $5, payment_token = $6, authorization_id = $7,
         authorization_requests = $8, authorized_at = $9, decline_code = $10, decline_reason = $11,
         void_requested_at = $12, follow_up = $13, follow_up_due_at = $14, follow_up_failures = $15,
         correlation_id = $16, updated_at = $17
       WHERE id = $1 AND order_id = $2`,
      params,
    );
    await this.saveFollowUpJob(uow, payment);
  }

  async findByOrder(manager: EntityManager, orderId: string, { forUpdate = false } = {}): Promise<Payment | undefined> {
    const rows = await manager.query<PaymentRow[]>(
      `SELECT ${COLUMNS} FROM payments WHERE order_id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [orderId],
    );
    return rows[0] && this.read(rows[0]);
  }

  async find(manager: EntityManager, id: string, { forUpdate = false } = {}): Promise<Payment | undefined> {
    const rows = await manager.query<PaymentRow[]>(
      `SELECT ${COLUMNS} FROM payments WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] && this.read(rows[0]);
  }

  async listByOrder(manager: EntityManager, orderId: string): Promise<Payment[]> {
    const rows = await manager.query<PaymentRow[]>(
      `SELECT ${COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at, id`,
      [orderId],
    );
    return rows.map((row) => this.read(row));
  }

  private read(row: PaymentRow): Payment {
    const payment = restore(row);
    this.storedFollowUps.set(payment, payment.snapshot.followUp);
    return payment;
  }

  /**
   * Schedules, moves or cancels the payment's follow-up job in the transaction that saves the payment, if its
   * follow-up changed: most saves change none, and write nothing more. Work due at once is looked for as soon as the
   * transaction commits, not at the runner's next poll.
   */
  private async saveFollowUpJob(uow: UnitOfWork, payment: Payment): Promise<void> {
    const { id, followUp, correlationId } = payment.snapshot;
    const stored = this.storedFollowUps.get(payment);
    this.storedFollowUps.set(payment, followUp);
    if (sameFollowUp(stored, followUp)) return;
    if (!followUp) {
      await this.jobs.unschedule(uow.manager, GATEWAY_FOLLOW_UP, id);
      return;
    }
    const dueAt = new Date(followUp.dueAt);
    const payload: FollowUpJob = { correlationId };
    await this.jobs.schedule(uow.manager, { topic: GATEWAY_FOLLOW_UP, key: id, dueAt, payload });
    if (dueAt.getTime() <= Date.now()) uow.afterCommit(() => this.runner.wake(GATEWAY_FOLLOW_UP));
  }
}

function sameFollowUp(a: FollowUp | undefined, b: FollowUp | undefined): boolean {
  return a?.action === b?.action && a?.dueAt === b?.dueAt && a?.failures === b?.failures;
}
