import { ConfigurationError, loadConfig } from '@orderflow/platform';
import { describe, expect, it } from 'vitest';
import { configSchema } from './config.js';

const env = {
  DATABASE_URL: 'postgres://logistics@localhost/logistics',
  AMQP_URL: 'amqp://logistics@localhost/orderflow',
  CARRIER_URL: 'http://127.0.0.1:3011',
  CARRIER_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  OPERATOR_TOKENS: 'op_0123456789abcdefghijklmnopqrstuvwxyz',
};

describe('logistics configuration', () => {
  it('defaults the carrier timeout, and the webhook to this process’s own endpoint on its port', () => {
    const config = loadConfig(configSchema, { ...env, PORT: '3103' });
    expect(config).toMatchObject({
      CARRIER_URL: 'http://127.0.0.1:3011',
      CARRIER_TIMEOUT_MS: 3_000,
      CARRIER_WEBHOOK_URL: 'http://127.0.0.1:3103/carrier/deliveries',
    });
  });

  it('defaults how bookings are asked for: 16 calls at once, 5 attempts, 1 s to 60 s apart', () => {
    expect(loadConfig(configSchema, env)).toMatchObject({
      CARRIER_BOOKING_CONCURRENCY: 16,
      CARRIER_BOOKING_ATTEMPTS: 5,
      CARRIER_BOOKING_RETRY_BASE_MS: 1_000,
      CARRIER_BOOKING_RETRY_MAX_MS: 60_000,
    });
  });

  it('defaults the delivery poll to production: a minute, then up to an hour apart, for ten days', () => {
    expect(loadConfig(configSchema, env)).toMatchObject({
      CARRIER_DELIVERY_POLL_FIRST_INTERVAL: 60_000,
      CARRIER_DELIVERY_POLL_MAX_INTERVAL: 3_600_000,
      CARRIER_DELIVERY_POLL_WINDOW: 10 * 86_400_000,
    });
    expect(loadConfig(configSchema, { ...env, CARRIER_DELIVERY_POLL_WINDOW: '3s' }).CARRIER_DELIVERY_POLL_WINDOW).toBe(
      3_000,
    );
  });

  it('takes the webhook URL it is given', () => {
    const config = loadConfig(configSchema, {
      ...env,
      CARRIER_WEBHOOK_URL: 'https://logistics.example/carrier/deliveries',
    });
    expect(config.CARRIER_WEBHOOK_URL).toBe('https://logistics.example/carrier/deliveries');
  });

  it('names each carrier variable that is missing or malformed', () => {
    const problems = (overrides: Record<string, string | undefined>) => {
      try {
        loadConfig(configSchema, { ...env, ...overrides });
      } catch (err) {
        if (err instanceof ConfigurationError) return err.problems.map((p) => p.variable);
        throw err;
      }
      return [];
    };
    expect(problems({ CARRIER_URL: undefined })).toEqual(['CARRIER_URL']);
    expect(problems({ CARRIER_URL: 'ftp://carrier' })).toEqual(['CARRIER_URL']);
    expect(problems({ CARRIER_TIMEOUT_MS: '0' })).toEqual(['CARRIER_TIMEOUT_MS']);
    expect(problems({ CARRIER_WEBHOOK_URL: 'not a url' })).toEqual(['CARRIER_WEBHOOK_URL']);
    expect(problems({ CARRIER_WEBHOOK_SECRET: undefined })).toEqual(['CARRIER_WEBHOOK_SECRET']);
    expect(problems({ CARRIER_WEBHOOK_SECRET: 'not-a-whsec-secret' })).toEqual(['CARRIER_WEBHOOK_SECRET']);
    expect(problems({ CARRIER_BOOKING_CONCURRENCY: '0' })).toEqual(['CARRIER_BOOKING_CONCURRENCY']);
    expect(problems({ CARRIER_BOOKING_ATTEMPTS: 'many' })).toEqual(['CARRIER_BOOKING_ATTEMPTS']);
    expect(problems({ CARRIER_BOOKING_RETRY_BASE_MS: '5' })).toEqual(['CARRIER_BOOKING_RETRY_BASE_MS']);
    expect(problems({ CARRIER_DELIVERY_POLL_WINDOW: 'ten days' })).toEqual(['CARRIER_DELIVERY_POLL_WINDOW']);
    expect(problems({ CARRIER_DELIVERY_POLL_FIRST_INTERVAL: '0s' })).toEqual(['CARRIER_DELIVERY_POLL_FIRST_INTERVAL']);
  });

  it('refuses the example webhook secret, naming the variable', () => {
    expect(() =>
      loadConfig(configSchema, {
        ...env,
        CARRIER_WEBHOOK_SECRET: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      }),
    ).toThrow(/CARRIER_WEBHOOK_SECRET: repeats one character: generate a random one/);
  });
});
