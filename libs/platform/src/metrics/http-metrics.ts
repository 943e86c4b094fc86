/**
 * Request rate, errors and latency of the service's HTTP edge, by method, route template and status.
 *
 * A middleware rather than an interceptor: it sees every request, including those a guard refuses (401, 403, 429)
 * and those no route matches (404), which never reach an interceptor. The route is read when the response ends, from
 * the template Express matched (`/orders/:id`), never from the URL, so the label set stays bounded whatever callers
 * send; a request no route matched is `unmatched`, and a method outside the standard ones is `OTHER`.
 *
 * Probes and scrapes (`/health/*`, `/metrics`) are not counted: kubelet and Prometheus call them every few seconds
 * on every replica, which would swamp the rate and flatten the latency of real traffic, and each already has its own
 * signal (probe failures in the pod's events, `up` and `scrape_duration_seconds` in Prometheus).
 */
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';

type Label = 'method' | 'route' | 'status';

/** What the middleware reads of a request and its response: Express's own objects fit. */
export interface ObservedRequest {
  readonly method: string;
  readonly route?: { readonly path?: unknown };
}
export interface ObservedResponse {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  once(event: 'close', listener: () => void): unknown;
}

export const UNMATCHED_ROUTE = 'unmatched';
/** nginx's "client closed request": the caller went away before the response was complete. */
export const CLIENT_CLOSED_STATUS = '499';
const NOT_COUNTED = new Set(['/metrics', '/health/live', '/health/ready']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class HttpMetrics {
  private readonly requests: Counter<Label>;
  private readonly duration: Histogram<Label>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'http_server_requests_total',
      help: 'HTTP requests answered, by method, route template and status (499: the client closed first)',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'From the request reaching the service to its response ending, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  /** Starts timing a request; the observation is made when its response closes, whether it finished or not. */
  track(req: ObservedRequest, res: ObservedResponse, now: () => bigint = () => process.hrtime.bigint()): void {
    const started = now();
    res.once('close', () => {
      const route = routeOf(req);
      if (route !== UNMATCHED_ROUTE && NOT_COUNTED.has(route)) return;
      const labels = {
        method: METHODS.has(req.method) ? req.method : 'OTHER',
        route,
        status: res.writableFinished ? String(res.statusCode) : CLIENT_CLOSED_STATUS,
      };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(now() - started) / 1e9);
    });
  }
}

/** Express sets `req.route` to the route that matched; read at the end, it is there for guard refusals too. */
export function routeOf(req: ObservedRequest): string {
  const path = req.route?.path;
  return typeof path === 'string' && path.length > 0 ? path : UNMATCHED_ROUTE;
}

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware<ObservedRequest, ObservedResponse> {
  constructor(@Inject(HttpMetrics) private readonly metrics: HttpMetrics) {}

  use(req: ObservedRequest, res: ObservedResponse, next: () => void): void {
    this.metrics.track(req, res);
    next();
  }
}
