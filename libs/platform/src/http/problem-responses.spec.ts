import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { ProblemResponses } from './problem-responses.js';

class Documented {
  @ProblemResponses(400, 429, { 503: 'Overloaded' })
  act(): void {}
}

const responses = Reflect.getMetadata(
  'swagger/apiResponse',
  Object.getOwnPropertyDescriptor(Documented.prototype, 'act')?.value as object,
) as Record<
  string,
  { description: string; headers?: Record<string, unknown>; content: Record<string, { example: { status: number } }> }
>;

describe('ProblemResponses', () => {
  it('documents each status as application/problem+json with an example of that status', () => {
    expect(Object.keys(responses).sort()).toEqual(['400', '429', '503']);
    for (const [status, response] of Object.entries(responses)) {
      expect(Object.keys(response.content)).toEqual(['application/problem+json']);
      expect(response.content['application/problem+json'].example.status).toBe(Number(status));
    }
    expect(responses['503'].description).toBe('Overloaded');
  });

  it('documents the headers the rate limiter and load shedding send', () => {
    expect(Object.keys(responses['429'].headers ?? {}).sort()).toEqual([
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ]);
    expect(Object.keys(responses['503'].headers ?? {})).toEqual(['Retry-After']);
    expect(responses['400'].headers).toBeUndefined();
  });
});
