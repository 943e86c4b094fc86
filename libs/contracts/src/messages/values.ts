import { z } from 'zod';

export const OrderId = z.uuid().describe('The order this message is about; also the CloudEvents subject');
export const Sku = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
  .describe('Stock-keeping unit');
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .describe('ISO 4217 currency code');
export const Amount = z.int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Amount in minor units (cents)');
export const Quantity = z.int().min(1).max(1_000_000);
export const Reason = z.string().min(1).max(500);

/** Why an order was cancelled: the one list the saga reports, the order service records and merchants read. */
export const CANCELLATION_REASONS = [
  'OUT_OF_STOCK',
  'PAYMENT_DECLINED',
  'SHIPPING_UNAVAILABLE',
  'CUSTOMER_CANCELLED',
  'TIMED_OUT',
] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export const OrderLine = z.object({ sku: Sku, quantity: Quantity });
export const PricedOrderLine = OrderLine.extend({ unitPrice: Amount });

export const Address = z.object({
  name: z.string().min(1).max(200),
  line1: z.string().min(1).max(200),
  line2: z.string().max(200).optional(),
  city: z.string().min(1).max(100),
  postalCode: z.string().min(1).max(20),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .describe('ISO 3166-1 alpha-2 country code'),
});
/** A shipping address as every service holds it: the order keeps it, the saga passes it on, the carrier ships to it. */
export type Address = z.infer<typeof Address>;
