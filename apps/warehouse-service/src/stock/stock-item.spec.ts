import { Sku } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { OnHandBelowReserved, SKU_PATTERN, StockItem, StockLevelsInconsistent } from './stock-item.js';

const item = (onHand: number, reserved = 0) => StockItem.restore({ sku: 'A-1', onHand, reserved });

describe('StockItem', () => {
  it('makes available what is on hand and not reserved', () => {
    expect(item(10, 3).available).toBe(7);
  });

  it('takes a new count down to what is reserved, and no further', () => {
    const chair = item(10, 4);
    chair.setOnHand(4);
    expect(chair.snapshot).toEqual({ sku: 'A-1', onHand: 4, reserved: 4 });
    expect(() => chair.setOnHand(3)).toThrow(OnHandBelowReserved);
    expect(chair.snapshot.onHand).toBe(4);
  });

  it('reserves up to what is available, never beyond', () => {
    const chair = item(5, 2);
    chair.reserve(3);
    expect(chair.available).toBe(0);
    expect(() => chair.reserve(1)).toThrow(StockLevelsInconsistent);
    expect(chair.snapshot.reserved).toBe(5);
  });

  it('gives a reservation back, or picks it off the shelf', () => {
    const released = item(10, 6);
    released.release(4);
    expect(released.snapshot).toMatchObject({ onHand: 10, reserved: 2 });
    const picked = item(10, 6);
    picked.pick(4);
    expect(picked.snapshot).toMatchObject({ onHand: 6, reserved: 2 });
    expect(() => picked.pick(3)).toThrow(StockLevelsInconsistent);
    expect(() => picked.release(3)).toThrow(StockLevelsInconsistent);
  });

  it('accepts exactly the SKUs the message contracts accept', () => {
    const samples = [
      'A',
      'SKU-CHAIR-01',
      'a.b_c-d',
      '9',
      'x'.repeat(64),
      'x'.repeat(65),
      '-lead',
      '.lead',
      'has space',
      '',
    ];
    for (const sku of samples) expect(SKU_PATTERN.test(sku), sku).toBe(Sku.safeParse(sku).success);
  });
});
