import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { OpenAccess } from '../access/access-policy.js';
import { ProblemResponses } from '../http/problem-responses.js';
import { type ReadinessCheck, Readiness } from './readiness.js';

const PROBE_TIMEOUT_MS = 2_000;

@ApiTags('health')
@OpenAccess()
@ProblemResponses(400, 500)
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
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Liveness',
    description:
      'Open to anyone, not rate-limited: 200 while the process runs and its event loop answers. Checks no ' +
      'dependency, so an outage of the database or the broker never makes Kubernetes restart the replicas.',
  })
  @ApiOkResponse({ description: '`{"status":"ok"}`' })
  live() {
    return this.health.check([]);
  }

  /** Ready to take work: every required dependency answers, and it is not shutting down. A degradable dependency
   * that does not answer shows as `degraded` (status 200): the service still serves, see readiness.ts. */
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness',
    description:
      'Open to anyone, not rate-limited: 200 when every required dependency (the database, the broker) answers ' +
      'within two seconds and the service is not shutting down; a degradable dependency that does not answer shows ' +
      'as `degraded` with 200 still. Otherwise 503 with each check’s outcome, and the load balancer stops routing here.',
  })
  @ApiOkResponse({ description: 'Ready: `status`, and each check in `info` and `details`' })
  @ProblemResponses({
    503: {
      description: 'Not ready: `detail` names what is down; `error` and `details` hold each check',
      retryAfter: false,
    },
  })
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
