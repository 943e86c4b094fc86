/**
 * OpenAPI documentation of the problem-details answers (RFC 9457) an operation can give, in one place so every
 * controller documents its errors the same way and as ProblemDetailsFilter really sends them: `application/problem+json`
 * with `type`, `title`, `status`, `detail`, `instance`, and `errors` (one per invalid field) on a 400.
 *
 * A 429 and a 503 carry `Retry-After`. An operation that documents a 429 is rate-limited, and every other answer of it
 * that got past the rate limiter carries @nestjs/throttler's `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 * `X-RateLimit-Reset` (for its one, default-named throttler): `documentRateLimitHeaders` writes them into the built
 * document from the 429s, so the two cannot disagree.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ApiResponseSchemaHost, type OpenAPIObject } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';

// @nestjs/swagger does not export its SchemaObject type by name.
type SchemaObject = Exclude<ApiResponseSchemaHost['schema'], { $ref: string }>;

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504;

const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', maxLength: 2048, example: 'about:blank' },
    title: { type: 'string', maxLength: 200 },
    status: { type: 'integer', format: 'int32', minimum: 400, maximum: 599 },
    detail: { type: 'string', maxLength: 4096 },
    instance: { type: 'string', maxLength: 4096 },
    errors: {
      type: 'array',
      maxItems: 1000,
      description: 'One entry per invalid field, by its dotted path (400 only)',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string', maxLength: 1024 }, message: { type: 'string', maxLength: 1024 } },
      },
    },
  },
};

const SECONDS: SchemaObject = { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 };
const COUNT: SchemaObject = { type: 'integer', format: 'int32', minimum: 0, maximum: 2_147_483_647 };

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: SECONDS } };

const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': {
    description: 'Requests allowed per window (per credential, or per address without one)',
    schema: COUNT,
  },
  'X-RateLimit-Remaining': { description: 'Requests left in this window', schema: COUNT },
  'X-RateLimit-Reset': { description: 'Seconds until the window starts again', schema: SECONDS },
};

const DEFAULT_DESCRIPTIONS: Record<ProblemStatus, string> = {
  400: 'The request is not valid: `errors` names each invalid field once',
  401: 'No valid credential (answered with `WWW-Authenticate: Bearer realm="orderflow"`)',
  403: 'The credential is valid but may not do this',
  404: 'No such resource',
  409: 'Not possible in the resource’s current state',
  413: 'The request body is larger than the limit',
  422: 'The request is well formed but cannot be carried out',
  429: 'Rate limit reached; retry after the Retry-After header',
  500: 'An unexpected error; nothing internal is disclosed',
  502: 'The service this one forwards to gave no usable answer (unreachable, a redirect, not JSON)',
  503: 'The database cannot be reached for now (a restart or a fail-over); retry after the Retry-After header',
  504: 'The service this one forwards to did not answer in time',
};

function example(status: ProblemStatus, detail: string): Record<string, unknown> {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status],
    status,
    ...(status === 400
      ? { detail: 'The request is not valid.', errors: [{ field: 'items', message: 'items must be an array' }] }
      : status === 500
        ? {}
        : { detail }),
  };
}

/** A problem answer described by hand; `retryAfter: false` for a 503 sent without Retry-After (readiness). */
export interface ProblemAnswer {
  description: string;
  retryAfter?: boolean;
}

/**
 * Documents the problem answers an operation gives: each status with its default description, or the given one.
 * `ProblemResponses(404, 409)` or `ProblemResponses({ 404: 'No such order for this merchant' })`.
 */
export function ProblemResponses(
  ...statuses: (ProblemStatus | Partial<Record<ProblemStatus, string | ProblemAnswer>>)[]
): MethodDecorator & ClassDecorator {
  const described = new Map<ProblemStatus, ProblemAnswer>();
  for (const entry of statuses) {
    if (typeof entry === 'number') described.set(entry, { description: DEFAULT_DESCRIPTIONS[entry] });
    else
      for (const [status, answer] of Object.entries(entry))
        described.set(Number(status) as ProblemStatus, typeof answer === 'string' ? { description: answer } : answer);
  }
  return applyDecorators(
    ...[...described].map(([status, { description, retryAfter = status === 429 || status === 503 }]) =>
      ApiResponse({
        status,
        description,
        headers: retryAfter ? RETRY_AFTER : undefined,
        content: {
          'application/problem+json': { schema: PROBLEM_SCHEMA, example: example(status, description) },
        },
      }),
    ),
  );
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * The rate limiter's headers on each answer of a rate-limited operation (one documenting a 429) that passed the rate
 * limiter: every 2xx and 4xx but the 413 (the body is refused before the limiter counts the request) and the 429 itself.
 * Called on the built document (bootstrap.ts).
 */
export function documentRateLimitHeaders(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const responses = item[method]?.responses as Record<string, { headers?: Record<string, unknown> }> | undefined;
      if (!responses?.['429']) continue;
      for (const [status, response] of Object.entries(responses)) {
        if (!/^[24]/.test(status) || status === '413' || status === '429' || '$ref' in response) continue;
        response.headers = { ...RATE_LIMIT_HEADERS, ...response.headers };
      }
    }
  }
}
