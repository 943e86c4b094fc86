import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { ConsoleApiController } from './console-api.controller.js';
import type { ConsoleService } from './console-services.js';
import type { ServiceAnswer, ServiceProxy, ServiceRequest } from './service-proxy.js';

const configured: ConsoleService[] = [
  { name: 'order', baseUrl: 'http://order:3000' },
  { name: 'payment', baseUrl: 'http://payment:3001' },
];

function controllerAnswering(answer: (service: ConsoleService, request: ServiceRequest) => ServiceAnswer) {
  const calls: { service: string; request: ServiceRequest }[] = [];
  const proxy = {
    call: (service: ConsoleService, request: ServiceRequest) => {
      calls.push({ service: service.name, request });
      return Promise.resolve(answer(service, request));
    },
  } as unknown as ServiceProxy;
  return { controller: new ConsoleApiController(configured, proxy), calls };
}

const req = { headers: { authorization: 'Bearer operator-token' } } as unknown as Request;
function response() {
  const res = { statusCode: 200, getHeader: () => 'corr-1', status: (code: number) => ((res.statusCode = code), res) };
  return res as unknown as Response & { statusCode: number };
}

async function thrown(work: () => Promise<unknown>): Promise<HttpException> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpException);
    return err as HttpException;
  }
  throw new Error('expected an HttpException');
}

describe('ConsoleApiController', () => {
  it("forwards to the fixed path of a configured service with the caller's credential and correlation id", async () => {
    const { controller, calls } = controllerAnswering(() => ({ kind: 'answer', status: 200, body: [] }));
    await controller.deadLetters('payment', 'payment.commands', { limit: 20 }, req, response());
    expect(calls).toEqual([
      {
        service: 'payment',
        request: {
          method: 'GET',
          path: '/dead-letters/payment.commands?limit=20',
          authorization: 'Bearer operator-token',
          correlationId: 'corr-1',
        },
      },
    ]);
  });

  it('forwards the dead-letter filters encoded, and a batch replay with its note', async () => {
    const { controller, calls } = controllerAnswering(() => ({ kind: 'answer', status: 200, body: {} }));
    await controller.deadLetters(
      'payment',
      'payment.commands',
      { limit: 20, reason: 'unknown sku&x=1', since: '2026-12-05T10:00:00Z' },
      req,
      response(),
    );
    const ids = ['6f1d3c1e-8d0a-4f6e-9a53-0d4c1e7b2a10'];
    await controller.replayBatch('payment', 'payment.commands', { messageIds: ids, note: 'fixed' }, req, response());
    expect(calls.map((c) => [c.request.method, c.request.path, c.request.body])).toEqual([
      [
        'GET',
        '/dead-letters/payment.commands?limit=20&reason=unknown+sku%26x%3D1&since=2026-12-05T10%3A00%3A00Z',
        undefined,
      ],
      ['POST', '/dead-letters/payment.commands/replay-batch', { messageIds: ids, note: 'fixed' }],
    ]);
  });

  it('refuses a service that is not configured and a queue that is not that service’s, without calling anything', async () => {
    const { controller, calls } = controllerAnswering(() => ({ kind: 'answer', status: 200, body: [] }));
    const res = response();
    expect(
      await thrown(() => controller.deadLetters('warehouse', 'warehouse.commands', { limit: 1 }, req, res)),
    ).toBeInstanceOf(NotFoundException);
    for (const queue of [
      'order.status-updates',
      '../health',
      'payment.commands/../../x',
      'payment.',
      'PAYMENT.commands',
    ]) {
      expect(
        await thrown(() => controller.deadLetters('payment', queue, { limit: 1 }, req, res)),
        queue,
      ).toBeInstanceOf(BadRequestException);
    }
    expect(calls).toHaveLength(0);
  });

  it("answers with the service's own status and body", async () => {
    const { controller, calls } = controllerAnswering(() => ({
      kind: 'answer',
      status: 202,
      body: { state: 'PENDING' },
    }));
    const res = response();
    const id = '6f1c1d52-5d0e-4a51-9a43-4c3c1b1f0a11';
    expect(await controller.redeliver(id, req, res)).toEqual({ state: 'PENDING' });
    expect(res.statusCode).toBe(202);
    expect(calls[0]).toMatchObject({
      service: 'order',
      request: { method: 'POST', path: `/notifications/${id}/redeliver` },
    });
  });

  it("passes the service's problem details through as its own, with the service named", async () => {
    const { controller } = controllerAnswering(() => ({
      kind: 'answer',
      status: 409,
      body: { type: 'about:blank', title: 'Conflict', status: 409, detail: 'An attempt is under way', instance: '/x' },
    }));
    const error = await thrown(() => controller.redeliver('6f1c1d52-5d0e-4a51-9a43-4c3c1b1f0a11', req, response()));
    expect(error.getStatus()).toBe(409);
    expect(error.getResponse()).toEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'An attempt is under way',
      service: 'order',
    });
  });

  it('says which service could not answer, and why', async () => {
    const { controller } = controllerAnswering(() => ({ kind: 'unavailable', status: 504, detail: 'too slow' }));
    const error = await thrown(() => controller.failedNotifications({ limit: 50 }, req, response()));
    expect(error.getStatus()).toBe(504);
    expect(error.getResponse()).toMatchObject({ title: 'Gateway Timeout', detail: 'too slow', service: 'order' });
  });

  it("sums up every configured service's dead letters, each on its own", async () => {
    const { controller } = controllerAnswering((service) =>
      service.name === 'order'
        ? { kind: 'answer', status: 200, body: [{ queue: 'order.status-updates', messages: 2 }] }
        : { kind: 'unavailable', status: 502, detail: 'the payment service could not be reached' },
    );
    expect(await controller.deadLetterSummary(req, response())).toEqual({
      configured: true,
      services: [
        { service: 'order', ok: true, queues: [{ queue: 'order.status-updates', messages: 2 }] },
        { service: 'payment', ok: false, status: 502, detail: 'the payment service could not be reached' },
      ],
    });
  });

  it('without CONSOLE_SERVICE_URLS, says so', async () => {
    const controller = new ConsoleApiController([], {} as ServiceProxy);
    expect(await controller.deadLetterSummary(req, response())).toEqual({ configured: false, services: [] });
    const error = await thrown(() => controller.failedNotifications({ limit: 50 }, req, response()));
    expect(error.getStatus()).toBe(404);
    expect(error.message).toContain('CONSOLE_SERVICE_URLS is not set');
  });
});
