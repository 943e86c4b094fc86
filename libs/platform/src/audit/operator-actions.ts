/**
 * Every operator action recorded with who, what and when — once, for every service, by one interceptor rather than by
 * each endpoint, so a new operator endpoint cannot be left out: any request that could change something (not GET,
 * HEAD or OPTIONS) made with an operator credential leaves a row in `operator_actions` once its answer is sent, with
 * the operator (`token:<fingerprint>` or `oidc:<sub>`, never the credential), the route (`PUT /stock/:sku`), its
 * path parameters and query, the answer's status — refusals included — and the request's correlation id; and the
 * same as one structured log line. Request bodies are not kept: they may carry secrets, and the route with its
 * target says what was done; the service's own records say to what effect.
 *
 * A batch (one request acting on many sagas or messages) says what it did to each item with `recordBatchItems`: the
 * request's row then names the batch, and each item gets a row of its own — the route, the item's target with the
 * batch id, and the item's own status — so an item is found in the audit the way a single action on it would be. A
 * batch's item targets carry the operator's note: a batch replay of dead letters has no other place that keeps why.
 *
 * The rows are written after the answer, not in the action's transaction: an action whose record fails to be written
 * (the database gone at that moment) is logged as unrecorded, loudly, rather than undone.
 */
import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import type { AuthenticatedRequest } from '../access/access-policy.js';
import { CORRELATION_HEADER } from '../logging/correlation.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BATCH = Symbol('orderflow:operator-action-batch');

/** What a batch did to one of its items: its own target (the saga, the message) and status. */
export interface BatchItemRecord {
  readonly target: Readonly<Record<string, unknown>>;
  /** As the same action alone would have answered: 200 done, 409 skipped (state changed), 404, 500 failed. */
  readonly status: number;
}

interface BatchRecord {
  readonly batchId: string;
  readonly items: readonly BatchItemRecord[];
}

type WithBatch = Response & { [BATCH]?: BatchRecord };

/**
 * Has the audit record each item of this request's batch beside the request itself, tied by `batchId`. Called by a
 * batch endpoint before it answers; the interceptor writes the rows once the answer is sent.
 */
export function recordBatchItems(res: Response, batchId: string, items: readonly BatchItemRecord[]): void {
  (res as WithBatch)[BATCH] = { batchId, items };
}

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
    const correlationId = res.getHeader(CORRELATION_HEADER)?.toString();
    const batch = (res as WithBatch)[BATCH];
    const rows = [
      {
        target: batch ? { ...target, batch: batch.batchId, items: batch.items.length } : target,
        status: res.statusCode,
      },
      ...(batch?.items ?? []).map((item) => ({
        target: { ...item.target, batch: batch?.batchId },
        status: item.status,
      })),
    ];
    for (const row of rows) {
      this.logger.log({ message: 'operator action', operator, action, ...row, correlationId });
    }
    try {
      // One statement: the batch's rows are all recorded or, loudly, none.
      await this.dataSource.query(
        `INSERT INTO operator_actions (operator, action, target, status, correlation_id)
         SELECT $1, $2, r.target, r.status, $3 FROM jsonb_to_recordset($4::jsonb) AS r(target jsonb, status integer)`,
        [operator, action, correlationId ?? null, JSON.stringify(rows)],
      );
    } catch (err) {
      this.logger.error({
        message: 'operator action not recorded',
        operator,
        action,
        rows: rows.length,
        reason: (err as Error).message,
      });
    }
  }
}

/** The latest operator actions, newest first; only those of one batch when `batchId` is given. */
export async function latestOperatorActions(
  dataSource: DataSource,
  limit: number,
  batchId?: string,
): Promise<OperatorAction[]> {
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
    `SELECT at, operator, action, target, status, correlation_id FROM operator_actions
      WHERE $2::text IS NULL OR target->>'batch' = $2 ORDER BY at DESC, id DESC LIMIT $1`,
    [limit, batchId ?? null],
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
