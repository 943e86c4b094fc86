import { Injectable } from '@nestjs/common';
import {
  type DataOf,
  PickStock,
  ReleaseStock,
  ReserveStock,
  StockPicked,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '@orderflow/contracts';
import { HandleMessage, type IncomingMessage, PermanentError, type UnitOfWork } from '@orderflow/messaging';
import { NothingToPick, ReservationAlreadyPicked, StockReservation } from './stock-reservation.js';
import { StockRepository } from './stock.repository.js';

/** The stock steps of the order saga: reserve all or nothing, give back on compensation, pick on dispatch. */
@Injectable()
export class StockCommands {
  constructor(private readonly stock: StockRepository) {}

  /** The first decision for an order is recorded; a re-sent command gets it again and reserves nothing more. */
  @HandleMessage(ReserveStock)
  async onReserveStock(message: IncomingMessage<DataOf<typeof ReserveStock>>, uow: UnitOfWork): Promise<void> {
    const { orderId, items } = message.data;
    let reservation = await this.stock.findReservation(uow.manager, orderId);
    if (!reservation) {
      const stock = await this.stock.lockItems(
        uow.manager,
        items.map((line) => line.sku),
      );
      reservation = StockReservation.reserve(orderId, items, stock, new Date());
      await this.stock.insertReservation(uow.manager, reservation);
      if (reservation.snapshot.status === 'RESERVED') await this.stock.updateItems(uow.manager, stock.values());
    }
    const answer = reservation.answerToReserve(items);
    uow.publish(
      answer.reserved ? StockReserved.of({ orderId }) : StockUnavailable.of({ orderId, skus: answer.shortSkus }),
    );
  }

  /**
   * Compensation is always acknowledged, also when nothing was reserved or it was released already. The one
   * exception is stock that was picked: the goods have left, so answering "released" would tell the saga something
   * false, and staying silent would leave it waiting. The saga releases only before a pick, so such a command is a
   * fault for an operator to look at: it goes to the dead-letter queue.
   */
  @HandleMessage(ReleaseStock)
  async onReleaseStock(message: IncomingMessage<DataOf<typeof ReleaseStock>>, uow: UnitOfWork): Promise<void> {
    const { orderId } = message.data;
    const reservation = await this.stock.findReservation(uow.manager, orderId, { lock: true });
    if (!reservation) {
      await this.stock.insertReservation(uow.manager, StockReservation.releasedBeforeReserved(orderId, new Date()));
    } else {
      const stock = await this.stock.lockItems(uow.manager, reservation.heldSkus);
      if (refusedPermanently(ReservationAlreadyPicked, () => reservation.release(stock, new Date()))) {
        await this.stock.updateReservation(uow.manager, reservation, stock.values());
      }
    }
    uow.publish(StockReleased.of({ orderId }));
  }

  /** Picking twice is picking once; picking what was never reserved (or was given back) is a fault. */
  @HandleMessage(PickStock)
  async onPickStock(message: IncomingMessage<DataOf<typeof PickStock>>, uow: UnitOfWork): Promise<void> {
    const { orderId } = message.data;
    const reservation = await this.stock.findReservation(uow.manager, orderId, { lock: true });
    if (!reservation) throw new PermanentError(`order ${orderId} has no stock reservation to pick`);
    const stock = await this.stock.lockItems(uow.manager, reservation.heldSkus);
    if (refusedPermanently(NothingToPick, () => reservation.pick(stock, new Date()))) {
      await this.stock.updateReservation(uow.manager, reservation, stock.values());
    }
    uow.publish(StockPicked.of({ orderId }));
  }
}

/** Runs a transition, making the domain's refusal a permanent error: no retry can change the answer. */
function refusedPermanently<T>(refusal: abstract new (...args: never[]) => Error, transition: () => T): T {
  try {
    return transition();
  } catch (err) {
    if (err instanceof refusal) throw new PermanentError(err.message);
    throw err;
  }
}
