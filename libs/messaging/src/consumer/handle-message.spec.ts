import 'reflect-metadata';
import { type MessageType, PickStock, ReleaseStock, ReserveStock } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import type { UnitOfWork } from '../unit-of-work.js';
import {
  collectMessageHandlers,
  HandleMessage,
  HandlesMessages,
  type MessageHandlerSet,
} from './handle-message.decorator.js';
import type { IncomingMessage } from './incoming-message.js';

const message = (type: string) => ({ type }) as IncomingMessage;
const uow = {} as UnitOfWork;

class StockHandlers {
  readonly seen: string[] = [];

  @HandleMessage(ReserveStock)
  reserve(msg: IncomingMessage): Promise<void> {
    this.seen.push(`reserve ${msg.type}`);
    return Promise.resolve();
  }

  @HandleMessage(ReleaseStock)
  release(msg: IncomingMessage): Promise<void> {
    this.seen.push(`release ${msg.type}`);
    return Promise.resolve();
  }

  notAHandler(): void {}
}

@HandlesMessages()
class RuntimeHandlers implements MessageHandlerSet {
  readonly seen: string[] = [];

  constructor(private readonly types: readonly MessageType[]) {}

  messageHandlers() {
    return this.types.map(
      (type) =>
        [
          type,
          (msg: IncomingMessage) => {
            this.seen.push(`runtime ${msg.type}`);
            return Promise.resolve();
          },
        ] as const,
    );
  }
}

describe('collectMessageHandlers', () => {
  it('finds decorated methods and handler sets alike, each bound to its provider', async () => {
    const stock = new StockHandlers();
    const runtime = new RuntimeHandlers([PickStock]);
    const handlers = collectMessageHandlers([stock, { unrelated: true }, runtime]);

    expect([...handlers.keys()].sort()).toEqual([PickStock.type, ReleaseStock.type, ReserveStock.type].sort());
    await handlers.get(ReserveStock.type)!(message(ReserveStock.type), uow);
    await handlers.get(PickStock.type)!(message(PickStock.type), uow);
    expect(stock.seen).toEqual([`reserve ${ReserveStock.type}`]);
    expect(runtime.seen).toEqual([`runtime ${PickStock.type}`]);
  });

  it('refuses a second handler for a type, whichever way either was declared', () => {
    expect(() => collectMessageHandlers([new StockHandlers(), new StockHandlers()])).toThrow(
      `two handlers for ${ReserveStock.type}`,
    );
    expect(() => collectMessageHandlers([new StockHandlers(), new RuntimeHandlers([ReleaseStock])])).toThrow(
      `two handlers for ${ReleaseStock.type}`,
    );
    expect(() => collectMessageHandlers([new RuntimeHandlers([PickStock, PickStock])])).toThrow(
      `two handlers for ${PickStock.type}`,
    );
  });
});
