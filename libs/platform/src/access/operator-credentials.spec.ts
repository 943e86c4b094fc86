import { describe, expect, it } from 'vitest';
import type { BaseConfig } from '../config/service-config.js';
import { bearerTokenOf } from './access.guards.js';
import { holdsRole, OperatorCredentials } from './operator-credentials.js';

const tokens = ['a'.repeat(40), 'b'.repeat(40)];
const credentials = new OperatorCredentials({ OPERATOR_TOKENS: tokens } as BaseConfig);

describe('OperatorCredentials', () => {
  it('recognises every configured token, so a new one can be rolled out before the old one is removed', async () => {
    const [first, second] = await Promise.all(tokens.map((t) => credentials.verify(t)));
    expect(first?.kind).toBe('operator');
    expect(first?.subject).toMatch(/^token:[0-9a-f]{12}$/);
    expect(second?.subject).not.toBe(first?.subject);
  });

  it('names a token by a fingerprint, never by the token', async () => {
    expect(JSON.stringify(await credentials.verify(tokens[0]))).not.toContain(tokens[0]);
  });

  it('refuses near misses', async () => {
    for (const guess of ['a'.repeat(39), 'a'.repeat(41), `${'a'.repeat(39)}b`, '', 'A'.repeat(40)]) {
      expect(await credentials.verify(guess)).toBeUndefined();
    }
  });

  it('does not try JWT verification when no issuer is configured', async () => {
    expect(await credentials.verify('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBeUndefined();
  });
});

describe('bearerTokenOf', () => {
  it('takes the token of a Bearer header only', () => {
    expect(bearerTokenOf('Bearer abc')).toBe('abc');
    expect(bearerTokenOf('bearer abc')).toBe('abc');
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Token abc']) {
      expect(bearerTokenOf(header)).toBeUndefined();
    }
  });
});

describe('holdsRole', () => {
  it('finds the role in a string or an array claim, at a dotted path', () => {
    expect(holdsRole({ roles: ['a', 'op'] }, 'roles', 'op')).toBe(true);
    expect(holdsRole({ roles: 'op' }, 'roles', 'op')).toBe(true);
    expect(holdsRole({ realm_access: { roles: ['op'] } }, 'realm_access.roles', 'op')).toBe(true);
  });

  it('does not find it anywhere else', () => {
    for (const payload of [{}, { roles: 'ops' }, { roles: ['o', 'p'] }, { roles: { op: true } }, { other: ['op'] }]) {
      expect(holdsRole(payload, 'roles', 'op'), JSON.stringify(payload)).toBe(false);
    }
    expect(holdsRole({ realm_access: ['op'] }, 'realm_access.roles', 'op')).toBe(false);
  });
});
