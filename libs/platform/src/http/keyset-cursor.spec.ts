import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';

const raw = (text: string) => Buffer.from(text).toString('base64url');
const ID = '0b1d2a3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('keyset cursors', () => {
  it('give back the position they were made from, microseconds included', () => {
    for (const createdAt of ['2026-12-05T01:02:03.123456Z', '2026-12-05T01:02:03.123Z', '2026-12-05T01:02:03Z']) {
      expect(decodeCursor(encodeCursor({ createdAt, id: ID }))).toEqual({ createdAt, id: ID });
    }
  });

  it.each([
    ['the old order cursor, a timestamp and thirty-six dashes', raw(`2020|${'-'.repeat(36)}`)],
    ['a year PostgreSQL has not', raw(JSON.stringify(['0000-01-01T00:00:00Z', ID]))],
    ['what Date.parse takes but PostgreSQL does not', raw(JSON.stringify(['0', ID]))],
    ['a timestamp without its zone', raw(JSON.stringify(['2020-01-01T00:00:00', ID]))],
    ['a month 13', raw(JSON.stringify(['2020-13-01T00:00:00Z', ID]))],
    ['dashes for an id', raw(JSON.stringify(['2020-01-01T00:00:00Z', '-'.repeat(36)]))],
    ['a NUL', raw(JSON.stringify(['2020-01-01T00:00:00Z\u0000', ID]))],
    ['three parts', raw(JSON.stringify(['2020-01-01T00:00:00Z', ID, 1]))],
    ['an object', raw(JSON.stringify({ createdAt: '2020-01-01T00:00:00Z', id: ID }))],
    ['not base64url JSON', '%%%'],
    ['nothing', ''],
  ])('refuse %s', (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
