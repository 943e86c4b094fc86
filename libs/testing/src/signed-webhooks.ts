/**
 * Signs a test's own webhook request the way the third party (payment gateway, carrier) signs its callbacks: the
 * Standard Webhooks scheme, with the secret the receiving service is configured with. The headers sign exactly
 * `body`, so send that very string.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface SignedWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` for `body`, signed with `secret` (a `whsec_` secret;
 * of a comma-separated list, as during a rotation, the first). `at` defaults to now: the receiver refuses a
 * timestamp more than five minutes off.
 */
export function signedWebhookHeaders(
  secret: string,
  body: string,
  { id = `msg_${randomUUID()}`, at = new Date() }: { id?: string; at?: Date } = {},
): SignedWebhookHeaders {
  const first = secret.split(',')[0].trim();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(first).sign(id, at, body),
  };
}

/** The test profile's webhook secret in `variable`, as `npm test` provides it to the services and simulators. */
export function webhookSecret(variable: 'PAYMENT_GATEWAY_WEBHOOK_SECRET' | 'CARRIER_WEBHOOK_SECRET'): string {
  const secret = process.env[variable];
  if (!secret) throw new Error(`${variable} is not set: e2e tests run through npm test, which provides it`);
  return secret;
}
