/**
 * Keyset-pagination cursors: the `(created_at, id)` of the last row of a page, opaque to clients (base64url JSON).
 *
 * Decoding is strict — a UTC timestamp written as this API writes them (to the microsecond, years 1000–9999) and a
 * UUID — so a crafted cursor is refused as a bad request instead of reaching PostgreSQL's casts, which fail on what
 * JavaScript's `Date.parse` or a loose pattern let through (`"0"`, thirty-six dashes).
 */
import { isUuid } from '../identifiers.js';

const TIMESTAMP = /^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export interface KeysetPosition {
  /** ISO 8601 in UTC, as the row's `created_at` (microseconds kept: a Date would lose them). */
  createdAt: string;
  id: string;
}

export function encodeCursor({ createdAt, id }: KeysetPosition): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** The position a cursor this API returned names; undefined for anything else. */
export function decodeCursor(cursor: string): KeysetPosition | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [createdAt, id] = value as unknown[];
  if (typeof createdAt !== 'string' || !TIMESTAMP.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
    return undefined;
  }
  if (typeof id !== 'string' || !isUuid(id)) return undefined;
  return { createdAt, id };
}
