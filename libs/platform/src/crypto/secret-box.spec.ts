import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxKeyMismatch } from './secret-box.js';

const key = () => randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('opens what it sealed, and the sealed form does not contain the secret', () => {
    const box = new SecretBox(key());
    const sealed = box.seal('whsec_c2VjcmV0', 'whs_1');
    expect(sealed).not.toContain('c2VjcmV0');
    expect(box.open(sealed, 'whs_1')).toBe('whsec_c2VjcmV0');
  });

  it('seals the same secret differently each time (fresh IV)', () => {
    const box = new SecretBox(key());
    expect(box.seal('s', 'id')).not.toBe(box.seal('s', 'id'));
  });

  it('does not open a sealed value moved onto another row', () => {
    const box = new SecretBox(key());
    expect(() => box.open(box.seal('s', 'whs_1'), 'whs_2')).toThrow();
  });

  it('does not open a tampered value', () => {
    const box = new SecretBox(key());
    const parts = box.seal('secret', 'id').split('.');
    parts[4] = Buffer.from('another').toString('base64url');
    expect(() => box.open(parts.join('.'), 'id')).toThrow();
  });

  it('says so when the configured key is not the one that sealed', () => {
    const sealed = new SecretBox(key()).seal('s', 'id');
    expect(() => new SecretBox(key()).open(sealed, 'id')).toThrow(SecretBoxKeyMismatch);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('SecretBox.isSealed', () => {
  it('tells a sealed value from a clear one', () => {
    const box = new SecretBox(Buffer.alloc(32, 7).toString('base64'));
    expect(SecretBox.isSealed(box.seal('tok_ok', 'order-1'))).toBe(true);
    for (const clear of ['tok_ok', 'v1.tok', '', 'v1.0123abcd']) expect(SecretBox.isSealed(clear)).toBe(false);
  });
});
