import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import { Conflict, DomainError, InvalidRequest, NotFound, Unprocessable } from '../errors/domain-errors.js';

/** What a client is told to wait when the database cannot be reached: a restart or a fail-over takes seconds. */
export const DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** RFC 9457 problem details. `errors` lists one entry per invalid field when the request was malformed. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

/**
 * Every error any endpoint answers is a problem-details document, from this one filter. A typed domain error
 * (errors/domain-errors.ts) is answered with its kind's status and its own `detail`, and `Retry-After` when it says when
 * to try again: controllers let them pass instead of translating each. Unexpected errors are
 * logged with their stack and answered with a bare 500, so no internal detail leaks to the caller. A 503 thrown on
 * purpose (load shedding) is not logged: it is the service working as meant, and under overload a line per refusal
 * would spend on logging what the refusal saves.
 *
 * A request that failed because the database cannot be reached (a restart, a fail-over) is answered 503 with
 * Retry-After, not 500: nothing is wrong with the request or the service, and the same request succeeds once the
 * database is back. It is logged as a warning without a stack; readiness shows the database down meanwhile.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ message: 'request failed: database unavailable', reason: (exception as Error).message });
      res
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .setHeader('Retry-After', String(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS))
        .type('application/problem+json')
        .json(databaseUnavailable(req.originalUrl));
      return;
    }
    const problem = this.toProblem(exception);
    problem.instance ??= req.originalUrl;
    if (exception instanceof DomainError && problem.status < 500 && exception.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(exception.retryAfterSeconds));
    }
    if (problem.status >= 500 && !isDeliberate503(exception))
      this.logger.error({ err: exception, message: 'request failed' });
    res.status(problem.status).type('application/problem+json').json(problem);
  }

  private toProblem(exception: unknown): ProblemDetails {
    const kindStatus = exception instanceof DomainError ? statusOf(exception) : undefined;
    if (kindStatus !== undefined) {
      const { detail } = exception as DomainError;
      return { type: 'about:blank', title: STATUS_CODES[kindStatus] ?? 'Error', status: kindStatus, detail };
    }
    if (!(exception instanceof HttpException)) {
      return { type: 'about:blank', title: 'Internal Server Error', status: HttpStatus.INTERNAL_SERVER_ERROR };
    }
    const status = exception.getStatus();
    const body = exception.getResponse();
    const base: ProblemDetails = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status };
    if (typeof body === 'string') return { ...base, detail: body };
    if (isProblem(body)) return { ...base, ...body, status };
    const { message } = body as { message?: unknown };
    if (Array.isArray(message))
      return { ...base, detail: 'The request is not valid.', errors: message.map(toFieldError) };
    return typeof message === 'string' && message !== base.title ? { ...base, detail: message } : base;
  }
}

// A kind added to domain-errors.ts without a status here is answered like any unexpected error (a bare, logged 500):
// a bug to see, not a 4xx to guess.
function statusOf(error: DomainError): number | undefined {
  if (error instanceof NotFound) return HttpStatus.NOT_FOUND;
  if (error instanceof Conflict) return HttpStatus.CONFLICT;
  if (error instanceof Unprocessable) return HttpStatus.UNPROCESSABLE_ENTITY;
  if (error instanceof InvalidRequest) return HttpStatus.BAD_REQUEST;
  return undefined;
}

function databaseUnavailable(instance: string): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Service Unavailable',
    status: HttpStatus.SERVICE_UNAVAILABLE,
    reason: 'database_unavailable',
    detail: 'The service cannot reach its database for now. Retry after the time in Retry-After.',
    instance,
  };
}

function isDeliberate503(exception: unknown): boolean {
  return exception instanceof HttpException && exception.getStatus() === 503;
}

function isProblem(body: object): body is Partial<ProblemDetails> {
  return 'type' in body || 'title' in body;
}

function toFieldError(entry: unknown): { field: string; message: string } {
  if (typeof entry === 'object' && entry !== null && 'field' in entry && 'message' in entry) {
    return { field: String(entry.field), message: String(entry.message) };
  }
  return { field: '', message: String(entry) };
}
