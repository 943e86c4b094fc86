/**
 * Asks the carrier to book the shipments that are BOOKING, with no transaction open, and records its answers.
 *
 * A BOOKING shipment is an intent committed with the CreateShipment message that asked for it (ShipmentBooking).
 * The booker looks for due intents when that commit wakes it, when one of its calls ends, and every second: so it
 * also finds an intent whose process died before or during the call, one waiting out a backoff, and one that a busy
 * replica had no room for. It claims what it takes with one UPDATE … FOR UPDATE SKIP LOCKED that leases the rows
 * (they are due again only after the lease), so replicas share the work and never ask for the same shipment at once.
 * The call holds no transaction and no pooled connection. Its answer is recorded in a transaction of its own by an
 * UPDATE that only a BOOKING row matches, with the ShipmentCreated or ShipmentRejected that tells the saga.
 *
 * Failure windows: a crash after the intent committed, before or during the call, leaves it BOOKING, and it is asked
 * for once its lease has run out. A crash (or a lease that ran out) after the carrier booked and before the answer
 * was recorded asks again under the same idempotency key, the order id, and gets the same booking; only the first
 * recording matches the row and publishes. A carrier that does not answer is asked again with backoff, and after
 * CARRIER_BOOKING_ATTEMPTS calls the shipment is REJECTED as CARRIER_ERROR.
 *
 * Recording a booking also starts the poll of its delivery (delivery-poll.ts), in the same transaction.
 */
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { endSpan, incomingTraceContext, Messaging, type UnitOfWork } from '@orderflow/messaging';
import { MetricsRegistry, SERVICE_CONFIG } from '@orderflow/platform';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import type { LogisticsServiceConfig } from '../config.js';
import { type BookingResult, Carrier, CarrierUnavailable } from './carrier.js';
import { CarrierDeliveryPoll } from './delivery-poll.js';
import type { BookingRetryPolicy, Shipment } from './shipment.js';
import { outcomeOf } from './shipment-messages.js';
import { type ClaimedBooking, ShipmentsRepository } from './shipments.repository.js';

/** How often to look for due intents when nothing wakes the booker; a backoff waits this much longer, at most. */
const SWEEP_INTERVAL_MS = 1_000;

/**
 * Longer than a booking can take: the call (CARRIER_TIMEOUT_MS bounds all of it) and recording its answer (a pooled
 * connection is waited for 5 s at most). A process that dies mid-call delays that booking by this, at most.
 */
const leaseFor = (carrierTimeoutMs: number) => carrierTimeoutMs + 15_000;

type Answer = { result: BookingResult } | { noAnswer: string };

/** What one call came to, once recorded; undefined when another process recorded the answer first. */
type Recorded =
  | { outcome: 'CREATED' | 'REJECTED'; noAnswer?: string }
  | { outcome: 'RETRIED'; attempt: number; retryInMs: number; noAnswer: string }
  | undefined;

@Injectable()
export class ShipmentBooker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ShipmentBooker');
  private readonly tracer = trace.getTracer('orderflow-logistics');
  private readonly retryPolicy: BookingRetryPolicy;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly calls: Counter<'outcome'>;
  private readonly inFlight = new Set<Promise<void>>();
  private claiming?: Promise<void>;
  private claimAgain = false;
  /** The last claim filled every free place (or found none): more intents may be due than were taken. */
  private backlog = false;
  private timer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    @Inject(SERVICE_CONFIG) config: LogisticsServiceConfig,
    private readonly messaging: Messaging,
    private readonly dataSource: DataSource,
    private readonly shipments: ShipmentsRepository,
    private readonly carrier: Carrier,
    private readonly deliveryPoll: CarrierDeliveryPoll,
    registry: MetricsRegistry,
  ) {
    this.calls = new Counter({
      name: 'orderflow_shipment_booking_calls_total',
      help:
        'Calls to the carrier to book a shipment, by what came of them: CREATED or REJECTED (its answer recorded), ' +
        'RETRIED (no answer; asked again later), UNRECORDED (the answer was not recorded; asked again after the lease)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.retryPolicy = {
      maxAttempts: config.CARRIER_BOOKING_ATTEMPTS,
      baseDelayMs: config.CARRIER_BOOKING_RETRY_BASE_MS,
      maxDelayMs: config.CARRIER_BOOKING_RETRY_MAX_MS,
    };
    this.concurrency = config.CARRIER_BOOKING_CONCURRENCY;
    this.leaseMs = leaseFor(config.CARRIER_TIMEOUT_MS);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), SWEEP_INTERVAL_MS);
    this.timer.unref();
    this.wake();
  }

  /** Stops claiming, and lets the calls in flight finish and record their answers. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.claiming;
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Looks for due intents now: after a commit that recorded one, say. Never throws, and costs one claim however
   * often it is called while a claim is running.
   */
  wake(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimAndBook().finally(() => {
      this.claiming = undefined;
      if (this.claimAgain) {
        this.claimAgain = false;
        this.wake();
      }
    });
  }

  /** Claims as many due intents as there is room for calls, and starts asking for each. */
  private async claimAndBook(): Promise<void> {
    while (!this.stopping) {
      const room = this.concurrency - this.inFlight.size;
      // Full: the due intents wait in the table, and each call that ends claims again.
      if (room <= 0) {
        this.backlog = true;
        return;
      }
      let claimed: ClaimedBooking[];
      try {
        claimed = await this.shipments.claimDueBookings(this.dataSource.manager, room, this.leaseMs);
      } catch (err) {
        // Nothing was claimed: the next wake or sweep tries again.
        this.logger.warn({ message: 'looking for due bookings failed', reason: (err as Error).message });
        return;
      }
      for (const booking of claimed) this.start(booking);
      this.backlog = claimed.length === room;
      if (!this.backlog) return;
    }
  }

  private start(booking: ClaimedBooking): void {
    const running: Promise<void> = this.book(booking).finally(() => {
      this.inFlight.delete(running);
      if (this.backlog) this.wake();
    });
    this.inFlight.add(running);
  }

  /** One attempt: ask the carrier, then record what it said, in the trace of the command that asked for it. */
  private async book({ shipment, context: work }: ClaimedBooking): Promise<void> {
    const { id: shipmentId, orderId } = shipment.snapshot;
    const log = { shipmentId, orderId, correlationId: work.correlationId };
    const parent = incomingTraceContext(work);
    const span = this.tracer.startSpan(
      'book shipment',
      { kind: SpanKind.CLIENT, attributes: { 'orderflow.shipment.id': shipmentId, 'orderflow.order.id': orderId } },
      parent,
    );
    let recorded: Recorded;
    try {
      recorded = await context.with(trace.setSpan(parent, span), async () => {
        const answer = await this.ask(shipment);
        return this.messaging.transaction((uow) => this.record(uow, shipment, answer, work.correlationId), work);
      });
      endSpan(span);
    } catch (err) {
      endSpan(span, err as Error);
      this.calls.inc({ outcome: 'UNRECORDED' });
      // Not recorded: the intent stays BOOKING and is asked for again when its lease runs out (same answer).
      this.logger.warn({
        ...log,
        message: 'recording the carrier’s answer failed; the booking will be asked for again',
        reason: (err as Error).message,
      });
      return;
    }
    if (!recorded) return;
    this.calls.inc({ outcome: recorded.outcome });
    if (recorded.outcome === 'RETRIED') {
      const { attempt, retryInMs, noAnswer: reason } = recorded;
      this.logger.warn({ ...log, message: 'booking will be retried', attempt, retryInMs, reason });
    } else if (recorded.noAnswer) {
      this.logger.warn({ ...log, message: 'the carrier never answered; shipment rejected', reason: recorded.noAnswer });
    }
  }

  /** The carrier's answer, or why there was none. Holds no transaction and no connection while it waits. */
  private async ask(shipment: Shipment): Promise<Answer> {
    try {
      return { result: await this.carrier.book(shipment.bookingRequest) };
    } catch (err) {
      if (!(err instanceof CarrierUnavailable)) {
        // Not the carrier's failure but ours: counted as an attempt all the same, so it cannot repeat forever.
        this.logger.error({ message: 'booking failed unexpectedly', shipmentId: shipment.snapshot.id, err });
      }
      return { noAnswer: (err as Error).message };
    }
  }

  /** Records the answer, or the want of one, with the event it leads to. */
  private async record(
    uow: UnitOfWork,
    shipment: Shipment,
    answer: Answer,
    correlationId: string | undefined,
  ): Promise<Recorded> {
    const now = new Date();
    if ('result' in answer) {
      shipment.recordBooking(answer.result, now);
    } else {
      const retry = shipment.recordNoAnswer(answer.noAnswer, now, this.retryPolicy);
      const state = shipment.snapshot;
      if (retry && state.status === 'BOOKING') {
        // Only if no other process counted this attempt or recorded an answer meanwhile.
        if (!(await this.shipments.postponeBooking(uow.manager, shipment, retry.retryInMs))) return undefined;
        return { outcome: 'RETRIED', attempt: state.attempts, retryInMs: retry.retryInMs, noAnswer: answer.noAnswer };
      }
    }
    // Matches only a row still BOOKING: if another process recorded the answer first, it also published it.
    if (!(await this.shipments.recordBookingOutcome(uow.manager, shipment))) return undefined;
    uow.publish(outcomeOf(shipment));
    const state = shipment.snapshot;
    if (state.status === 'CREATED') {
      const { id: shipmentId, orderId, booking } = state;
      await this.deliveryPoll.start(uow.manager, {
        shipmentId,
        orderId,
        carrierShipmentId: booking.carrierShipmentId,
        correlationId,
      });
    }
    const outcome = state.status === 'CREATED' ? 'CREATED' : 'REJECTED';
    return 'noAnswer' in answer ? { outcome, noAnswer: answer.noAnswer } : { outcome };
  }
}
