/**
 * OpenAPI documentation of the problem-details answers (RFC 9457) an operation can give, in one place so every
 * controller documents its errors the same way and as ProblemDetailsFilter really sends them: `application/problem+json`
 * with `type`, `title`, `status`, `detail`, `instance`, and `errors` (one per invalid field) on a 400.
 *
 * A 429 carries `Retry-After` and the rate limiter's `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 * `X-RateLimit-Reset` (@nestjs/throttler's headers for its one, default-named throttler); a 503 carries `Retry-After`.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ApiResponseSchemaHost } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';

// @nestjs/swagger does not export its SchemaObject type by name.
type SchemaObject = Exclude<ApiResponseSchemaHost['schema'], { $ref: string }>;

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503;

const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', maxLength: 2048, example: 'about:blank' },
    title: { type: 'string', maxLength: 200 },
    status: { type: 'integer', minimum: 400, maximum: 599 },
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

const SECONDS: SchemaObject = { type: 'integer', minimum: 0, maximum: 86_400 };

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: SECONDS } };

const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': { description: 'Requests allowed per window', schema: { type: 'integer', minimum: 1 } },
  'X-RateLimit-Remaining': { description: 'Requests left in this window', schema: { type: 'integer', minimum: 0 } },
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
  503: 'Temporarily unavailable; retry after the Retry-After header',
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

/**
 * Documents the problem answers an operation gives: each status with its default description, or the given one.
 * `ProblemResponses(404, 409)` or `ProblemResponses({ 404: 'No such order for this merchant' })`.
 */
export function ProblemResponses(
  ...statuses: (ProblemStatus | Partial<Record<ProblemStatus, string>>)[]
): MethodDecorator & ClassDecorator {
  const described = new Map<ProblemStatus, string>();
  for (const entry of statuses) {
    if (typeof entry === 'number') described.set(entry, DEFAULT_DESCRIPTIONS[entry]);
    else for (const [status, text] of Object.entries(entry)) described.set(Number(status) as ProblemStatus, text);
  }
  return applyDecorators(
    ...[...described].map(([status, description]) =>
      ApiResponse({
        status,
        description,
        headers: status === 429 ? { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS } : status === 503 ? RETRY_AFTER : undefined,
        content: {
          'application/problem+json': { schema: PROBLEM_SCHEMA, example: example(status, description) },
        },
      }),
    ),
  );
}
