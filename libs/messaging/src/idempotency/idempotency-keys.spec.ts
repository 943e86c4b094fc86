import type { IncomingMessage } from 'node:http';
import type { EntityManager } from 'typeorm';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  hashOf,
  IdempotencyKeyInFlight,
  IdempotencyKeyReused,
  IdempotentRequest,
  idempotentRequestOf,
  InvalidIdempotencyKey,
  markIdempotent,
  wasReplayed,
} from './idempotency-keys.js';

describe('hashOf', () => {
  it('is the same for equal bodies whatever the order of their fields, at any depth', () => {
    const body = { customerId: 'c1', items: [{ sku: 'A', quantity: 1 }], address: { city: 'X', country: 'DE' } };
    const reordered = { address: { country: 'DE', city: 'X' }, items: [{ quantity: 1, sku: 'A' }], customerId: 'c1' };
    expect(hashOf(reordered)).toBe(hashOf(body));
  });

  it('differs when a value, an array order or a field differs', () => {
    const body = { items: ['A', 'B'], quantity: 1 };
    expect(hashOf({ ...body, quantity: 2 })).not.toBe(hashOf(body));
    expect(hashOf({ ...body, items: ['B', 'A'] })).not.toBe(hashOf(body));
    expect(hashOf({ ...body, note: 'x' })).not.toBe(hashOf(body));
    expect(hashOf({ ...body, quantity: '1' })).not.toBe(hashOf(body));
  });

  it('leaves out undefined fields, as the JSON of the body does', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: null })).toBe('{"b":1,"c":null}');
    expect(hashOf({ a: 1, b: undefined })).toBe(hashOf({ a: 1 }));
  });
});

const request = (headers: Record<string, string>, body: unknown = { quantity: 1 }) =>
  ({ headers, body }) as unknown as IncomingMessage & { body: unknown };

describe('idempotentRequestOf', () => {
  it('is nothing for an endpoint that takes no keys, even when the request sends one', () => {
    expect(idempotentRequestOf(request({ 'idempotency-key': 'k1' }))).toBeUndefined();
  });

  it('is nothing for a request to an idempotent endpoint that sent no key', () => {
    const req = request({});
    markIdempotent(req, () => 'merchant-1');
    expect(idempotentRequestOf(req)).toBeUndefined();
  });

  it('carries the endpoint’s scope, the key and the hash of the body; the same object at every call', () => {
    const req = request({ 'idempotency-key': 'k1' }, { quantity: 1 });
    markIdempotent(req, () => 'merchant-1');
    const idempotent = idempotentRequestOf(req);
    expect(idempotent).toMatchObject({ scope: 'merchant-1', key: 'k1', requestHash: hashOf({ quantity: 1 }) });
    expect(idempotentRequestOf(req)).toBe(idempotent);
  });

  it.each(['', 'has spaces', 'k'.repeat(256), 'é'])('refuses the malformed key %j', (key) => {
    const req = request({ 'idempotency-key': key });
    markIdempotent(req, () => 'merchant-1');
    expect(() => idempotentRequestOf(req)).toThrow(InvalidIdempotencyKey);
  });

  it('accepts 1 to 255 visible ASCII characters', () => {
    for (const key of ['k', '~!#'.padEnd(255, 'x')]) {
      const req = request({ 'idempotency-key': key });
      markIdempotent(req, () => 'merchant-1');
      expect(idempotentRequestOf(req)?.key).toBe(key);
    }
  });
});

describe('wasReplayed', () => {
  it('is true only once the request’s answer was a stored one', () => {
    const req = request({ 'idempotency-key': 'k1' });
    expect(wasReplayed(req)).toBe(false);
    markIdempotent(req, () => 'merchant-1');
    expect(wasReplayed(req)).toBe(false);
    const idempotent = idempotentRequestOf(req)!;
    expect(wasReplayed(req)).toBe(false);
    idempotent.replayed = true;
    expect(wasReplayed(req)).toBe(true);
  });
});

/** A transaction that answers the lock and the lookup as given, and records what was written. */
function transaction({ locked = true, earlier }: { locked?: boolean; earlier?: { request_hash: string } } = {}) {
  const written: unknown[][] = [];
  const manager = {
    query: (sql: string, params: unknown[]) => {
      if (sql.includes('pg_try_advisory_xact_lock')) return Promise.resolve([{ locked }]);
      if (sql.startsWith('SELECT'))
        return Promise.resolve(earlier ? [{ ...earlier, response_body: { first: true } }] : []);
      written.push(params);
      return Promise.resolve([]);
    },
  } as unknown as EntityManager;
  return { manager, written };
}

describe('IdempotentRequest.answer', () => {
  const work = () => Promise.resolve({ orderId: 'o1' });

  it('does the work and records its answer under the key when the key is new', async () => {
    const { manager, written } = transaction();
    const request = new IdempotentRequest('merchant-1', 'k1', 'h1');
    expect(await request.answer(manager, work)).toEqual({ orderId: 'o1' });
    expect(request.replayed).toBe(false);
    expect(written).toEqual([['merchant-1', 'k1', 'h1', '{"orderId":"o1"}']]);
  });

  it('refuses, without doing the work, a key another transaction holds or another body used', async () => {
    let worked = 0;
    const counted = () => ((worked += 1), work());
    await expect(
      new IdempotentRequest('m', 'k', 'h1').answer(transaction({ locked: false }).manager, counted),
    ).rejects.toThrow(IdempotencyKeyInFlight);
    await expect(
      new IdempotentRequest('m', 'k', 'h1').answer(transaction({ earlier: { request_hash: 'h2' } }).manager, counted),
    ).rejects.toThrow(IdempotencyKeyReused);
    expect(worked).toBe(0);
  });

  it('gives the stored answer for the same body, without doing the work or writing', async () => {
    const { manager, written } = transaction({ earlier: { request_hash: 'h1' } });
    const request = new IdempotentRequest('m', 'k', 'h1');
    expect(await request.answer(manager, () => Promise.reject(new Error('work done again')))).toEqual({ first: true });
    expect(request.replayed).toBe(true);
    expect(written).toEqual([]);
  });

  it('runs one unit of work per request: a second would replay the first one’s answer as its own', async () => {
    const request = new IdempotentRequest('m', 'k', 'h1');
    await request.answer(transaction().manager, work);
    await expect(request.answer(transaction().manager, work)).rejects.toThrow('one unit of work');
  });
});
