import { Injectable } from '@nestjs/common';
import { Messaging } from '@orderflow/messaging';
import { DataSource } from 'typeorm';
import type { StockItem } from './stock-item.js';
import { StockRepository } from './stock.repository.js';
import { NotFound } from '@orderflow/platform/domain-errors';

export class StockItemNotFound extends NotFound {
  constructor() {
    super('No stock item with this SKU');
  }
}

/** The stock use cases behind the REST edge. */
@Injectable()
export class StockService {
  constructor(
    private readonly messaging: Messaging,
    private readonly dataSource: DataSource,
    private readonly stock: StockRepository,
  ) {}

  /** Sets what is on hand, creating the SKU if it is new; the item is locked, so no reservation slips in between. */
  async setOnHand(sku: string, onHand: number): Promise<StockItem> {
    return this.messaging.transaction(async (uow) => {
      const item = await this.stock.lockOrCreateItem(uow.manager, sku);
      item.setOnHand(onHand);
      await this.stock.updateItems(uow.manager, [item]);
      return item;
    });
  }

  async get(sku: string): Promise<StockItem> {
    const item = await this.stock.findItem(this.dataSource.manager, sku);
    if (!item) throw new StockItemNotFound();
    return item;
  }
}
