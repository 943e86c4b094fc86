/**
 * An `order.placed.v1` payload for tests of the saga and its engine: one line of one SKU, its total the amount given,
 * an address the contracts accept. Only the order id and the amount vary between tests.
 */
import type { DataOf, OrderPlaced } from '@orderflow/contracts';

export function orderPlacedData(orderId: string, amount = 4990): DataOf<typeof OrderPlaced> {
  return {
    orderId,
    customerId: 'c-1',
    items: [{ sku: 'SKU-1', quantity: 1, unitPrice: amount }],
    totalAmount: amount,
    currency: 'EUR',
    paymentToken: 'tok_1',
    shippingAddress: { name: 'A', line1: 'Street 1', city: 'Town', postalCode: '1000', country: 'BE' },
  };
}
