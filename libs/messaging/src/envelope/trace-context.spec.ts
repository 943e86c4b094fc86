import { describe, expect, it } from 'vitest';
import { childTraceparent, isTraceparent } from './trace-context.js';

const parts = (traceparent: string) => {
  const [version, traceId, spanId, flags] = traceparent.split('-');
  return { version, traceId, spanId, flags };
};

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

describe('childTraceparent', () => {
  it('continues its parent’s trace, with the parent’s flags, as a new span', () => {
    const child = childTraceparent(PARENT);

    expect(isTraceparent(child)).toBe(true);
    expect(parts(child).traceId).toBe(parts(PARENT).traceId);
    expect(parts(child).flags).toBe('00');
    expect(parts(child).spanId).not.toBe(parts(PARENT).spanId);
  });

  it('gives each child of one parent its own span', () => {
    const spans = new Set(Array.from({ length: 100 }, () => parts(childTraceparent(PARENT)).spanId));
    expect(spans.size).toBe(100);
  });

  it('never repeats an id across many refills of the random pool', () => {
    const ids = Array.from({ length: 5_000 }, () => parts(childTraceparent()));
    expect(new Set(ids.map((p) => p.traceId)).size).toBe(5_000);
    expect(new Set(ids.map((p) => p.spanId)).size).toBe(5_000);
    expect(new Set(ids.flatMap((p) => [p.traceId, p.spanId])).size).toBe(10_000);
  });

  it('starts a new, sampled trace when there is no parent', () => {
    const first = childTraceparent();
    const second = childTraceparent(undefined);

    expect(isTraceparent(first)).toBe(true);
    expect(parts(first)).toMatchObject({ version: '00', flags: '01' });
    expect(parts(first).traceId).not.toBe(parts(second).traceId);
  });

  it.each([
    ['garbage', 'not a traceparent'],
    ['upper-case hex', PARENT.toUpperCase()],
    ['the forbidden version ff', PARENT.replace(/^00/, 'ff')],
    ['a short trace id', '00-4bf92f3577b34da6-00f067aa0ba902b7-01'],
    ['the empty string', ''],
  ])('starts a new trace for %s', (_what, invalid) => {
    const child = childTraceparent(invalid);

    expect(isTraceparent(child)).toBe(true);
    expect(parts(child).traceId).not.toBe(parts(PARENT).traceId);
    expect(parts(child).flags).toBe('01');
  });
});

describe('isTraceparent', () => {
  it('accepts W3C version 00 and nothing else', () => {
    expect(isTraceparent(PARENT)).toBe(true);
    expect(isTraceparent(PARENT.toUpperCase())).toBe(false);
    expect(isTraceparent(`${PARENT}-extra`)).toBe(false);
    expect(isTraceparent(42)).toBe(false);
    expect(isTraceparent(undefined)).toBe(false);
  });
});
