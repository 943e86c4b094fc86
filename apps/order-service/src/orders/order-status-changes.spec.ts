import type { EntityManager } from 'typeorm';
import { describe, expect, it } from 'vitest';
import type { Order } from './order.js';
import { OrderStatusChanges } from './order-status-changes.js';

const manager = {} as EntityManager;
const order = {} as Order;

describe('OrderStatusChanges', () => {
  it('resolves only after every listener has finished its work, in the order they subscribed', async () => {
    const changes = new OrderStatusChanges();
    const done: string[] = [];
    const slowly = (name: string) => ({
      statusChanged: async (m: EntityManager, o: Order) => {
        expect(m).toBe(manager);
        expect(o).toBe(order);
        await new Promise((resolve) => setImmediate(resolve));
        done.push(name);
      },
    });
    changes.subscribe(slowly('first'));
    changes.subscribe(slowly('second'));
    await changes.changed(manager, order, new Date());
    expect(done).toEqual(['first', 'second']);
  });

  it('fails with the listener that fails, so the status is rolled back with what it would have written', async () => {
    const changes = new OrderStatusChanges();
    changes.subscribe({ statusChanged: () => Promise.reject(new Error('notification not stored')) });
    await expect(changes.changed(manager, order, new Date())).rejects.toThrow('notification not stored');
  });
});
