import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { OpenAccess } from '../access/access-policy.js';
import { Readiness } from './readiness.js';

const PROBE_TIMEOUT_MS = 2_000;

@ApiTags('health')
@OpenAccess()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  /** The process is alive and its event loop answers. Deliberately checks no dependency: a database outage
   * must not make Kubernetes restart every replica. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready to take work: every dependency this service needs answers, and it is not shutting down. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => {
        const session = this.indicators.check('lifecycle');
        return this.readiness.shuttingDown ? session.down({ message: 'shutting down' }) : session.up();
      },
      ...this.readiness.entries().map(
        ([name, probe]) =>
          () =>
            this.indicators
              .check(name)
              .attempt(({ signal }) => probe(signal))
              .withTimeout(PROBE_TIMEOUT_MS),
      ),
    ]);
  }
}
