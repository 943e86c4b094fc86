/**
 * The HTTP edge of Idempotency-Key (idempotency-keys.ts holds the mechanism and its guarantee): `@Idempotent()` opts an
 * endpoint in, documents the header, and marks a replayed answer with `Idempotent-Replayed: true`. The endpoint's use
 * case opens its unit of work with the request's `workContextOf(req)`, which carries the key.
 */
import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { IncomingMessage as HttpRequest, ServerResponse } from 'node:http';
import { type Observable, tap } from 'rxjs';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_HEADER, markIdempotent, wasReplayed } from './idempotency-keys.js';

export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

export interface IdempotentOptions<R extends HttpRequest = HttpRequest> {
  /** Whose keys these are (a merchant's, say): the same key in two scopes names two requests. */
  scope: (req: R) => string;
  /** The header's description in the OpenAPI document: what a retry with the same key and body gives. */
  description: string;
}

class IdempotentEndpoint implements NestInterceptor {
  constructor(private readonly scope: (req: HttpRequest) => string) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    markIdempotent(req, this.scope);
    return next.handle().pipe(
      tap(() => {
        if (wasReplayed(req)) http.getResponse<ServerResponse>().setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
      }),
    );
  }
}

/** The endpoint takes an optional Idempotency-Key: the same key and body give the first answer again. */
export const Idempotent = <R extends HttpRequest>(options: IdempotentOptions<R>) =>
  applyDecorators(
    // The scope is only ever called with this route's request, which is the R the route declares.
    UseInterceptors(new IdempotentEndpoint(options.scope as (req: HttpRequest) => string)),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      description: options.description,
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source, minLength: 1, maxLength: 255 },
    }),
  );
