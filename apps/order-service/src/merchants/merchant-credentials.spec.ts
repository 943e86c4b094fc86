import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { issueApiKey, issueWebhookSecret, parseApiKey, secretMatches } from './merchant-credentials.js';

describe('merchant API keys', () => {
  it('parse back into their public id and secret, and the secret matches only its own digest', () => {
    const key = issueApiKey();
    const parsed = parseApiKey(key.apiKey)!;
    expect(parsed.keyId).toBe(key.keyId);
    expect(secretMatches(parsed.secret, key.secretHash)).toBe(true);
    expect(secretMatches(parseApiKey(issueApiKey().apiKey)!.secret, key.secretHash)).toBe(false);
  });

  it('keep nothing reversible: the stored digest is not the secret', () => {
    const key = issueApiKey();
    expect(key.secretHash.toString('base64url')).not.toBe(parseApiKey(key.apiKey)!.secret);
    expect(key.secretHash).toHaveLength(32);
  });

  it('are unique', () => {
    const keys = new Set(Array.from({ length: 200 }, () => issueApiKey().apiKey));
    expect(keys.size).toBe(200);
  });

  it('refuse anything that is not an orderflow key', () => {
    const { apiKey } = issueApiKey();
    for (const candidate of [
      '',
      'ofk_',
      apiKey.slice(0, -1),
      `${apiKey}x`,
      apiKey.replace('ofk_', 'ofx_'),
      ` ${apiKey}`,
    ]) {
      expect(parseApiKey(candidate)).toBeUndefined();
    }
  });
});

describe('webhook secrets', () => {
  it('are in the whsec_ form the official Standard Webhooks library takes', () => {
    const { webhookSecret, secretId } = issueWebhookSecret();
    expect(secretId).toMatch(/^whs_[0-9a-f]{16}$/);
    const webhook = new Webhook(webhookSecret);
    const now = new Date();
    const signature = webhook.sign('msg_1', now, '{}');
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    };
    expect(webhook.verify('{}', headers)).toEqual({});
  });
});
