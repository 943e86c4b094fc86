import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, untrustedInputProblem } from './untrusted-input.js';

/** `{"a":{"a":…}}` nested `levels` deep, parsed as a JSON body would be. */
function nested(levels: number): unknown {
  return JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
}

describe('untrustedInputProblem', () => {
  it('passes an ordinary body, with any printable Unicode (an emoji is a surrogate pair)', () => {
    expect(
      untrustedInputProblem({ name: 'Zoë 😀', items: [{ sku: 'A-1', n: 2 }], note: null }, 'body'),
    ).toBeUndefined();
    expect(untrustedInputProblem(nested(MAX_JSON_DEPTH - 1), 'body')).toBeUndefined();
  });

  it('refuses JSON nested deeper than the cap, even 15,000 levels, without recursing', () => {
    expect(untrustedInputProblem(nested(MAX_JSON_DEPTH + 1), 'body')).toMatchObject({
      message: `nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
    expect(untrustedInputProblem(nested(15_000), 'body')).toBeDefined();
    expect(untrustedInputProblem(JSON.parse(`${'['.repeat(15_000)}${']'.repeat(15_000)}`), 'body')).toBeDefined();
  });

  it.each([
    ['a NUL in a value', { shippingAddress: { city: 'Lon\u0000don' } }, 'body.shippingAddress.city'],
    ['a NUL in a key', { 'ke\u0000y': 1 }, 'body'],
    ['a lone high surrogate', { items: [{ sku: 'x\uD800' }] }, 'body.items[0].sku'],
    ['a lone low surrogate', { name: '\uDC00x' }, 'body.name'],
  ])('refuses %s, naming where', (_what, body, field) => {
    expect(untrustedInputProblem(body, 'body')).toMatchObject({ field });
  });
});
