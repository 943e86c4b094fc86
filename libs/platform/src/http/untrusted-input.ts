/**
 * What no request may carry, checked once for every request before validation or a handler sees it:
 *
 * - JSON nested deeper than `MAX_JSON_DEPTH`. class-transformer and class-validator recurse over a body, and one
 *   nested 15,000 levels deep overflows their stack: a 500 for a 60 kB request.
 * - Strings PostgreSQL cannot store — NUL (`\u0000`), and UTF-16 lone surrogates, which no UTF-8 database can hold —
 *   anywhere in the body (keys included), the query string or the path. They would pass every field's rules and
 *   fail in the INSERT.
 *
 * Either is a 400 problem detail naming where, in the shape of every other validation failure. The walk is iterative
 * (its own stack), so the check cannot overflow what it guards against.
 */
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { type FieldError, RequestValidationFailed } from './request-validation.js';

/** Deeper than any request this product takes (the deepest, a notification policy, is 4) by a wide margin. */
export const MAX_JSON_DEPTH = 32;

// NUL, a lone high surrogate (not followed by a low one) or a lone low surrogate (not preceded by a high one).
// eslint-disable-next-line no-control-regex -- NUL is exactly what this must find
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first problem in a parsed value (a JSON body, a query object), or undefined when there is none. */
export function untrustedInputProblem(value: unknown, root: string): FieldError | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (UNSTORABLE.test(current))
        return { field: path, message: `${path} holds a character that cannot be stored (NUL or a lone surrogate)` };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { field: path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [key, child] of Object.entries(current)) {
      const childPath = Array.isArray(current) ? `${path}[${key}]` : `${path}.${key}`;
      if (UNSTORABLE.test(key))
        return {
          field: path,
          message: `${path} has a key with a character that cannot be stored (NUL or a lone surrogate)`,
        };
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

interface RequestParts {
  body?: unknown;
  query?: unknown;
  params?: unknown;
}

/** Refuses a request whose body, query or path holds what `untrustedInputProblem` finds. */
@Injectable()
export class UntrustedInputInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<RequestParts>();
      const problem =
        untrustedInputProblem(request.body, 'body') ??
        untrustedInputProblem(request.query, 'query') ??
        untrustedInputProblem(request.params, 'path');
      if (problem) throw new RequestValidationFailed([problem]);
    }
    return next.handle();
  }
}
