// The HTTP metrics inside a real Nest application over Express: what only the framework can show, that a guard's
// refusal is still labelled with its route template and that a request no route matches is `unmatched`.
import {
  type CanActivate,
  Controller,
  Get,
  type INestApplication,
  Module,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceIdentity } from '../service-identity.js';
import { MetricsModule, MetricsRegistry } from './metrics.js';

class Refuse implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException();
  }
}

@Controller('orders')
class OrdersController {
  @Get(':id')
  find(): { ok: true } {
    return { ok: true };
  }

  @Get(':id/secret')
  @UseGuards(Refuse)
  secret(): never {
    throw new Error('the guard lets nobody in');
  }

  @Get(':id/fails')
  fails(): never {
    throw new Error('boom');
  }
}

@Module({
  imports: [MetricsModule.forService(new ServiceIdentity('order', '0.0.0-test', 'test-host'))],
  controllers: [OrdersController],
})
class TestModule {}

describe('HTTP metrics in a Nest application', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  it('labels requests by route template, guard refusals and errors included, and leaves scrapes out', async () => {
    for (const path of [
      '/orders/1',
      '/orders/2',
      '/orders/3/secret',
      '/orders/4/fails',
      '/no/such/route',
      '/metrics',
    ]) {
      await (await fetch(`${url}${path}`)).arrayBuffer();
    }
    await (await fetch(`${url}/orders/5`, { method: 'PROPFIND' })).arrayBuffer();

    const { values } = (await app.get(MetricsRegistry).getMetricsAsJSON()).find(
      (m) => m.name === 'http_server_requests_total',
    )!;
    const counts = values.map(({ labels, value }) => `${labels.method} ${labels.route} ${labels.status} ${value}`);
    expect(counts.sort()).toEqual([
      'GET /orders/:id 200 2',
      'GET /orders/:id/fails 500 1',
      'GET /orders/:id/secret 401 1',
      'GET unmatched 404 1',
      'OTHER unmatched 404 1',
    ]);
  });
});
