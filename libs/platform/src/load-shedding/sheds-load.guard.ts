import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import type { ProblemDetails } from '../http/problem-details.filter.js';
import { ProblemResponses } from '../http/problem-responses.js';
import { refusalDetail, retryAfterSeconds } from './backlog.js';
import { BacklogMonitor, LOAD_SHEDDING_CONFIG } from './backlog-monitor.js';
import type { LoadSheddingConfig } from './load-shedding-config.js';

/**
 * Answers 503 with `Retry-After` while the backlog is at or past a bound. It runs after the global guards, so a caller
 * without a credential, or over its rate limit, gets that answer first and learns nothing of the backlog.
 *
 * The type stays `about:blank`: "temporarily overloaded, come back after Retry-After" is exactly what 503 means
 * (RFC 9110 §15.6.4), so there is no further semantics for a type URI to name; `reason`, `level` and `bound` say
 * which backlog it was, for people and dashboards.
 */
@Injectable()
export class ShedLoadGuard implements CanActivate {
  constructor(
    private readonly monitor: BacklogMonitor,
    @Inject(LOAD_SHEDDING_CONFIG) private readonly config: LoadSheddingConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const verdict = this.monitor.verdict();
    if (verdict.admit) return true;
    const { reading } = verdict;
    this.monitor.refused(reading);
    context
      .switchToHttp()
      .getResponse<Response>()
      .setHeader('Retry-After', String(retryAfterSeconds(this.config.LOAD_SHEDDING_RETRY_AFTER_SECONDS)));
    const problem: ProblemDetails = {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: HttpStatus.SERVICE_UNAVAILABLE,
      detail: refusalDetail(reading),
      reason: reading.signal,
      level: reading.level,
      bound: reading.bound,
    };
    throw new HttpException(problem, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

/**
 * On a route that takes new work (not on reads, nor on requests that finish work already taken, such as a
 * cancellation or a third party's callback): refuses it with 503 and `Retry-After` while the service's backlog is at
 * or past a bound (see BacklogMonitor).
 */
export const ShedsLoadWhenBacklogged = () =>
  applyDecorators(
    UseGuards(ShedLoadGuard),
    ProblemResponses({
      503: 'A backlog is past its bound, or the database cannot be reached; nothing was done. Retry after the Retry-After header',
    }),
  );
