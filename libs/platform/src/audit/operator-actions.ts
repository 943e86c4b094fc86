/**
 * Every operator action recorded with who, what and when — once, for every service, by one interceptor rather than by
 * each endpoint, so a new operator endpoint cannot be left out: any request that could change something (not GET,
 * HEAD or OPTIONS) made with an operator credential leaves a row in `operator_actions` once its answer is sent, with
 * the operator (`token:<fingerprint>` or `oidc:<sub>`, never the credential), the route (`PUT /stock/:sku`), its
 * path parameters and query, the answer's status — refusals included — and the request's correlation id; and the
 * same as one structured log line. Request bodies are not kept: they may carry secrets, and the route with its
 * target says what was done; the service's own records say to what effect.
 *
 * The row is written after the answer, not in the action's transaction: an action whose record fails to be written
 * (the database gone at that moment) is logged as unrecorded, loudly, rather than undone.
 */
import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import type { AuthenticatedRequest } from '../access/access-policy.js';
import { CORRELATION_HEADER } from '../logging/correlation.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface OperatorAction {
  at: string;
  operator: string;
  action: string;
  target: Record<string, unknown>;
  status: number;
  correlationId?: string;
}

@Injectable()
export class OperatorActionLog implements NestInterceptor {
  private readonly logger = new Logger('OperatorActions');

  constructor(private readonly dataSource: DataSource) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const { principal } = req;
    if (principal?.kind === 'operator' && !READS.has(req.method)) {
      const route = (req.route as { path?: string } | undefined)?.path ?? req.path;
      const action = `${req.method} ${route}`;
      const target = { ...req.params, ...(Object.keys(req.query).length > 0 && { query: req.query }) };
      res.once('finish', () => void this.record(principal.subject, action, target, res));
    }
    return next.handle();
  }

  private async record(operator: string, action: string, target: object, res: Response): Promise<void> {
    const status = res.statusCode;
    const correlationId = res.getHeader(CORRELATION_HEADER)?.toString();
    this.logger.log({ message: 'operator action', operator, action, target, status, correlationId });
    try {
      await this.dataSource.query(
        'INSERT INTO operator_actions (operator, action, target, status, correlation_id) VALUES ($1, $2, $3, $4, $5)',
        [operator, action, JSON.stringify(target), status, correlationId ?? null],
      );
    } catch (err) {
      this.logger.error({ message: 'operator action not recorded', operator, action, reason: (err as Error).message });
    }
  }
}

/** The latest operator actions, newest first. */
export async function latestOperatorActions(dataSource: DataSource, limit: number): Promise<OperatorAction[]> {
  const rows = await dataSource.query<
    {
      at: Date;
      operator: string;
      action: string;
      target: Record<string, unknown>;
      status: number;
      correlation_id: string | null;
    }[]
  >(
    'SELECT at, operator, action, target, status, correlation_id FROM operator_actions ORDER BY at DESC, id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({
    at: r.at.toISOString(),
    operator: r.operator,
    action: r.action,
    target: r.target,
    status: r.status,
    ...(r.correlation_id && { correlationId: r.correlation_id }),
  }));
}
