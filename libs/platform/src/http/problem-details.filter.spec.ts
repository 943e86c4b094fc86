import type { ArgumentsHost } from '@nestjs/common';
import { NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Conflict, DomainError, InvalidRequest, NotFound, Unprocessable } from '../errors/domain-errors.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';

class ThingNotFound extends NotFound {
  constructor() {
    super('No thing with this id');
  }
}
class ThingBusy extends Conflict {
  constructor() {
    super('The thing is busy; ask again after Retry-After', { retryAfterSeconds: 3 });
  }
}
class ThingTooBig extends Unprocessable {}
class ThingMalformed extends InvalidRequest {}
/** A kind the filter has no status for. */
class ThingOdd extends DomainError {}

function answer(exception: unknown) {
  const sent: { status?: number; headers: Record<string, string>; type?: string; body?: unknown } = { headers: {} };
  const res = {
    status(code: number) {
      sent.status = code;
      return res;
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
      return res;
    },
    type(type: string) {
      sent.type = type;
      return res;
    },
    json(body: unknown) {
      sent.body = body;
      return res;
    },
  };
  const host = {
    switchToHttp: () => ({ getRequest: () => ({ originalUrl: '/things/1' }), getResponse: () => res }),
  } as unknown as ArgumentsHost;
  new ProblemDetailsFilter().catch(exception, host);
  return sent;
}

describe('ProblemDetailsFilter', () => {
  it.each([
    [new ThingNotFound(), 404, 'Not Found', 'No thing with this id'],
    [new ThingBusy(), 409, 'Conflict', 'The thing is busy; ask again after Retry-After'],
    [new ThingTooBig('The thing is too big'), 422, 'Unprocessable Entity', 'The thing is too big'],
    [new ThingMalformed('The thing is malformed'), 400, 'Bad Request', 'The thing is malformed'],
  ])('answers the typed domain error %o with its kind’s status and its own detail', (error, status, title, detail) => {
    const sent = answer(error);
    expect(sent.status).toBe(status);
    expect(sent.type).toBe('application/problem+json');
    expect(sent.body).toEqual({ type: 'about:blank', title, status, detail, instance: '/things/1' });
  });

  it('says when to try again for a domain error that knows, and only then', () => {
    expect(answer(new ThingBusy()).headers).toEqual({ 'Retry-After': '3' });
    expect(answer(new ThingNotFound()).headers).toEqual({});
  });

  it('answers a domain error of a kind it has no status for as an unexpected error, without its detail', () => {
    const sent = answer(new ThingOdd('internal words'));
    expect(sent.status).toBe(500);
    expect(sent.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      instance: '/things/1',
    });
  });

  it('answers an HTTP exception as before', () => {
    expect(answer(new NotFoundException('No such route')).body).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No such route',
      instance: '/things/1',
    });
  });
});
