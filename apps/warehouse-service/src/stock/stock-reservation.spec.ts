import { describe, expect, it } from 'vitest';
import { StockItem } from './stock-item.js';
import { mergeLines, NothingToPick, ReservationAlreadyPicked, StockReservation } from './stock-reservation.js';

const ORDER = 'order-1';
const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T00:05:00Z');

function shelf(...levels: [sku: string, onHand: number, reserved?: number][]): Map<string, StockItem> {
  return new Map(levels.map(([sku, onHand, reserved = 0]) => [sku, StockItem.restore({ sku, onHand, reserved })]));
}

const levelsOf = (stock: Map<string, StockItem>) => [...stock.values()].map((item) => item.snapshot);

function reserved(stock = shelf(['A', 5], ['B', 3])) {
  return {
    stock,
    reservation: StockReservation.reserve(
      ORDER,
      [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ],
      stock,
      now,
    ),
  };
}

describe('reserving', () => {
  it('reserves every line when every line is available', () => {
    const { stock, reservation } = reserved();
    expect(reservation.snapshot).toMatchObject({
      status: 'RESERVED',
      lines: [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ],
    });
    expect(levelsOf(stock)).toEqual([
      { sku: 'A', onHand: 5, reserved: 2 },
      { sku: 'B', onHand: 3, reserved: 3 },
    ]);
    expect(reservation.answerToReserve([])).toEqual({ reserved: true });
  });

  it('takes the last units: an exact fit is enough', () => {
    const stock = shelf(['A', 5, 3]);
    const reservation = StockReservation.reserve(ORDER, [{ sku: 'A', quantity: 2 }], stock, now);
    expect(reservation.snapshot.status).toBe('RESERVED');
    expect(stock.get('A')!.available).toBe(0);
  });

  it('reserves nothing at all when one line is short, and names the short SKUs', () => {
    const stock = shelf(['A', 5], ['B', 2], ['C', 1, 1]);
    const lines = [
      { sku: 'C', quantity: 1 },
      { sku: 'A', quantity: 5 },
      { sku: 'B', quantity: 3 },
    ];
    const reservation = StockReservation.reserve(ORDER, lines, stock, now);
    expect(reservation.snapshot).toMatchObject({ status: 'REFUSED', lines: [], shortSkus: ['B', 'C'] });
    expect(levelsOf(stock)).toEqual([
      { sku: 'A', onHand: 5, reserved: 0 },
      { sku: 'B', onHand: 2, reserved: 0 },
      { sku: 'C', onHand: 1, reserved: 1 },
    ]);
    expect(reservation.answerToReserve(lines)).toEqual({ reserved: false, shortSkus: ['B', 'C'] });
  });

  it('counts an unknown SKU as unavailable', () => {
    const stock = shelf(['A', 5]);
    const reservation = StockReservation.reserve(
      ORDER,
      [
        { sku: 'A', quantity: 1 },
        { sku: 'NOPE', quantity: 1 },
      ],
      stock,
      now,
    );
    expect(reservation.answerToReserve([])).toEqual({ reserved: false, shortSkus: ['NOPE'] });
    expect(stock.get('A')!.snapshot.reserved).toBe(0);
  });

  it('adds up a SKU named twice before checking it', () => {
    const twice = [
      { sku: 'A', quantity: 3 },
      { sku: 'A', quantity: 3 },
    ];
    const short = StockReservation.reserve(ORDER, twice, shelf(['A', 5]), now);
    expect(short.answerToReserve(twice)).toEqual({ reserved: false, shortSkus: ['A'] });
    const stock = shelf(['A', 6]);
    const fits = StockReservation.reserve(ORDER, twice, stock, now);
    expect(fits.snapshot.lines).toEqual([{ sku: 'A', quantity: 6 }]);
    expect(stock.get('A')!.available).toBe(0);
  });

  it('merges lines into one per SKU, in SKU order', () => {
    expect(
      mergeLines([
        { sku: 'b', quantity: 1 },
        { sku: 'B', quantity: 2 },
        { sku: 'a', quantity: 3 },
        { sku: 'b', quantity: 4 },
      ]),
    ).toEqual([
      { sku: 'B', quantity: 2 },
      { sku: 'a', quantity: 3 },
      { sku: 'b', quantity: 5 },
    ]);
  });
});

describe('releasing', () => {
  it('gives the reserved stock back, once', () => {
    const { stock, reservation } = reserved();
    expect(reservation.release(stock, later)).toBe(true);
    expect(reservation.snapshot).toMatchObject({ status: 'RELEASED', updatedAt: later.toISOString() });
    expect(levelsOf(stock).map((l) => l.reserved)).toEqual([0, 0]);
    expect(reservation.release(stock, later)).toBe(false);
    expect(levelsOf(stock).map((l) => l.reserved)).toEqual([0, 0]);
    expect(reservation.answerToReserve([])).toEqual({ reserved: true });
  });

  it('has nothing to give back for a refused order, which stays refused', () => {
    const stock = shelf(['A', 1]);
    const refused = StockReservation.reserve(ORDER, [{ sku: 'A', quantity: 2 }], stock, now);
    expect(refused.heldSkus).toEqual([]);
    expect(refused.release(stock, later)).toBe(false);
    expect(refused.answerToReserve([])).toEqual({ reserved: false, shortSkus: ['A'] });
  });

  it('refuses to give back goods that were picked', () => {
    const { stock, reservation } = reserved();
    reservation.pick(stock, later);
    expect(() => reservation.release(stock, later)).toThrow(ReservationAlreadyPicked);
    expect(levelsOf(stock)).toEqual([
      { sku: 'A', onHand: 3, reserved: 0 },
      { sku: 'B', onHand: 0, reserved: 0 },
    ]);
  });

  it('before any reservation, turns a late reserve command away', () => {
    const released = StockReservation.releasedBeforeReserved(ORDER, now);
    expect(released.snapshot).toMatchObject({ status: 'RELEASED', lines: [] });
    expect(released.heldSkus).toEqual([]);
    expect(
      released.answerToReserve([
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 1 },
      ]),
    ).toEqual({
      reserved: false,
      shortSkus: ['A', 'B'],
    });
  });
});

describe('picking', () => {
  it('takes the reserved goods off the shelf, once', () => {
    const { stock, reservation } = reserved(shelf(['A', 5, 1], ['B', 4]));
    expect(reservation.heldSkus).toEqual(['A', 'B']);
    expect(reservation.pick(stock, later)).toBe(true);
    expect(reservation.snapshot.status).toBe('PICKED');
    expect(reservation.heldSkus).toEqual([]);
    const afterPick = [
      { sku: 'A', onHand: 3, reserved: 1 },
      { sku: 'B', onHand: 1, reserved: 0 },
    ];
    expect(levelsOf(stock)).toEqual(afterPick);
    expect(reservation.pick(stock, later)).toBe(false);
    expect(levelsOf(stock)).toEqual(afterPick);
  });

  it('refuses to pick what was refused or released', () => {
    const stock = shelf(['A', 1]);
    const refused = StockReservation.reserve(ORDER, [{ sku: 'A', quantity: 2 }], stock, now);
    expect(() => refused.pick(stock, later)).toThrow(NothingToPick);
    const { stock: other, reservation } = reserved();
    reservation.release(other, later);
    expect(() => reservation.pick(other, later)).toThrow(NothingToPick);
    expect(levelsOf(other).map((l) => l.onHand)).toEqual([5, 3]);
  });
});
