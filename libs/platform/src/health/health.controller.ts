import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { OpenAccess } from '../access/access-policy.js';
import { type ReadinessCheck, Readiness } from './readiness.js';

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

  /** Ready to take work: every required dependency answers, and it is not shutting down. A degradable dependency
   * that does not answer shows as `degraded` (status 200): the service still serves, see readiness.ts. */
  @Get('ready')
  @HealthCheck()
  async ready() {
    try {
      return await this.health.check([
        () => {
          const session = this.indicators.check('lifecycle');
          return this.readiness.shuttingDown ? session.down({ message: 'shutting down' }) : session.up();
        },
        ...this.readiness.entries().map((check) => () => this.probe(check)),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      // As problem details (the one error format), keeping terminus's checks so the answer says what is down.
      const { info, error, details } = err.getResponse() as HealthCheckResult;
      throw new ServiceUnavailableException({
        title: 'Service Unavailable',
        detail: `Not ready: ${Object.keys(error ?? {}).join(', ') || 'shutting down'}.`,
        info,
        error,
        details,
      });
    }
  }

  private async probe({ name, kind, probe }: ReadinessCheck) {
    const session = this.indicators.check(name);
    const result = await session.attempt(({ signal }) => probe(signal)).withTimeout(PROBE_TIMEOUT_MS);
    const { status, ...details } = result[name];
    return status === 'down' && kind === 'degradable' ? session.degraded(details) : result;
  }
}
