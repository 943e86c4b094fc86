/**
 * The credentials a merchant holds, as values: API keys to call orderflow, webhook secrets to verify what orderflow
 * sends. Made from 256 random bits each, so a key needs no slow password hash: a SHA-256 digest of it cannot be
 * reversed or guessed, and it is compared in constant time (ADR 0008).
 *
 * An API key reads `ofk_<keyId>_<secret>`: the key id is public (it names the key in logs, rate limits and
 * revocations, and finds its row), the secret is known only to the merchant. The prefix lets secret scanners spot
 * a leaked key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const API_KEY = /^ofk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  keyId: string;
  /** Shown to the merchant once, never stored. */
  apiKey: string;
  secretHash: Buffer;
}

export function issueApiKey(): IssuedApiKey {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, apiKey: `ofk_${keyId}_${secret}`, secretHash: digest(secret) };
}

export function parseApiKey(apiKey: string): { keyId: string; secret: string } | undefined {
  const match = API_KEY.exec(apiKey);
  return match ? { keyId: match[1], secret: match[2] } : undefined;
}

/** Whether `secret` is the one whose digest was stored; the same time whatever the answer. */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = digest(secret);
  return storedHash.length === presented.length && timingSafeEqual(presented, storedHash);
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export interface IssuedWebhookSecret {
  secretId: string;
  /** `whsec_` and base64, as the Standard Webhooks libraries expect it. */
  webhookSecret: string;
}

export function issueWebhookSecret(): IssuedWebhookSecret {
  return {
    secretId: `whs_${randomBytes(8).toString('hex')}`,
    webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
  };
}
