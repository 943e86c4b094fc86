import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { OpenAPIObject } from '@nestjs/swagger';
import { documentRateLimitHeaders, ProblemResponses } from './problem-responses.js';

class Documented {
  @ProblemResponses(400, 429, { 503: 'Overloaded' }, { 409: { description: 'Later', retryAfter: true } })
  act(): void {}

  @ProblemResponses({ 503: { description: 'Not ready', retryAfter: false } })
  probe(): void {}
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
    expect(Object.keys(responses).sort()).toEqual(['400', '409', '429', '503']);
    for (const [status, response] of Object.entries(responses)) {
      expect(Object.keys(response.content)).toEqual(['application/problem+json']);
      expect(response.content['application/problem+json'].example.status).toBe(Number(status));
    }
    expect(responses['503'].description).toBe('Overloaded');
  });

  it('documents Retry-After where it is sent: on 429 and 503, and where the operation says', () => {
    expect(Object.keys(responses['429'].headers ?? {})).toEqual(['Retry-After']);
    expect(Object.keys(responses['503'].headers ?? {})).toEqual(['Retry-After']);
    expect(Object.keys(responses['409'].headers ?? {})).toEqual(['Retry-After']);
    expect(responses['400'].headers).toBeUndefined();
    const probe = Reflect.getMetadata(
      'swagger/apiResponse',
      Object.getOwnPropertyDescriptor(Documented.prototype, 'probe')?.value as object,
    ) as Record<string, { headers?: unknown }>;
    expect(probe['503'].headers).toBeUndefined();
  });
});

describe('documentRateLimitHeaders', () => {
  const answer = () => ({ description: '' }) as { description: string; headers?: Record<string, unknown> };
  const document = {
    paths: {
      '/limited': {
        post: { responses: { 201: answer(), 400: answer(), 413: answer(), 429: answer(), 500: answer() } },
      },
      '/health': { get: { responses: { 200: answer(), 500: answer() } } },
    },
  } as unknown as OpenAPIObject;
  documentRateLimitHeaders(document);
  const headersOf = (path: string, method: 'get' | 'post', status: number) =>
    Object.keys(
      (document.paths[path][method]?.responses as Record<number, { headers?: object }>)[status].headers ?? {},
    ).sort();

  it('documents the rate limiter’s headers on the answers of a rate-limited operation that passed it', () => {
    const rateLimit = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
    expect(headersOf('/limited', 'post', 201)).toEqual(rateLimit);
    expect(headersOf('/limited', 'post', 400)).toEqual(rateLimit);
  });

  it('not on a 413 (refused before the limiter), the 429, a 5xx, nor any answer of an operation without a 429', () => {
    expect(headersOf('/limited', 'post', 413)).toEqual([]);
    expect(headersOf('/limited', 'post', 429)).toEqual([]);
    expect(headersOf('/limited', 'post', 500)).toEqual([]);
    expect(headersOf('/health', 'get', 200)).toEqual([]);
  });
});
