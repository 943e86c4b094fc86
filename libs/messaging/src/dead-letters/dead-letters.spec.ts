import { describe, expect, it } from 'vitest';
import { type DeadLetter, matchesDeadLetterFilter } from './dead-letters.js';

const letter = (overrides: Partial<DeadLetter>): DeadLetter => ({ headers: {}, body: {}, ...overrides });

describe('matchesDeadLetterFilter', () => {
  const poison = letter({
    reason: 'permanent-error',
    error: 'PermanentError: unknown SKU',
    failedAt: '2026-12-05T10:00:00.000Z',
  });

  it('passes everything without a filter', () => {
    expect(matchesDeadLetterFilter(letter({}), {})).toBe(true);
  });

  it('matches the reason or the error, case-insensitively', () => {
    expect(matchesDeadLetterFilter(poison, { reason: 'PERMANENT' })).toBe(true);
    expect(matchesDeadLetterFilter(poison, { reason: 'unknown sku' })).toBe(true);
    expect(matchesDeadLetterFilter(poison, { reason: 'delivery-limit' })).toBe(false);
  });

  it('bounds the failure time: since inclusive, until exclusive; an unknown time passes no bound', () => {
    expect(matchesDeadLetterFilter(poison, { since: '2026-12-05T10:00:00Z' })).toBe(true);
    expect(matchesDeadLetterFilter(poison, { since: '2026-12-05T10:00:01Z' })).toBe(false);
    expect(matchesDeadLetterFilter(poison, { until: '2026-12-05T10:00:00Z' })).toBe(false);
    expect(matchesDeadLetterFilter(poison, { until: '2026-12-05T10:00:01Z' })).toBe(true);
    expect(matchesDeadLetterFilter(letter({ reason: 'x' }), { since: '2000-01-01T00:00:00Z' })).toBe(false);
  });
});
