/**
 * The console's way to the other services: one request to one configured service, with the operator's own
 * credential, bounded in time and size. Never an open proxy: the caller names a configured service and one of the
 * paths the console controller builds, not a URL. Redirects are not followed.
 */
import type { ConsoleService } from './console-services.js';

/** What the service said, or why it said nothing. */
export type ServiceAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'unavailable'; readonly status: 502 | 504; readonly detail: string };

export interface ServiceRequest {
  readonly method: 'GET' | 'POST';
  /** Starts with `/`; every variable segment already encoded by the caller. */
  readonly path: string;
  /** The operator's `Authorization` header, forwarded as it came: the console holds no credential of its own. */
  readonly authorization?: string;
  readonly correlationId?: string;
  readonly body?: unknown;
}

export interface ServiceProxyOptions {
  readonly readTimeoutMs: number;
  /** Replays and redeliveries do more work than a read. */
  readonly writeTimeoutMs: number;
  readonly maxResponseBytes: number;
}

export const DEFAULT_PROXY_OPTIONS: ServiceProxyOptions = {
  readTimeoutMs: 10_000,
  writeTimeoutMs: 30_000,
  // A dead-letter listing of 500 messages with their bodies and headers.
  maxResponseBytes: 8 * 1024 * 1024,
};

export class ServiceProxy {
  constructor(
    private readonly options: ServiceProxyOptions = DEFAULT_PROXY_OPTIONS,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async call(service: ConsoleService, request: ServiceRequest): Promise<ServiceAnswer> {
    if (!request.path.startsWith('/')) throw new Error(`a service path starts with /, not ${request.path}`);
    const timeoutMs = request.method === 'GET' ? this.options.readTimeoutMs : this.options.writeTimeoutMs;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.authorization) headers.authorization = request.authorization;
    if (request.correlationId) headers['x-correlation-id'] = request.correlationId;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await this.fetchFn(`${service.baseUrl}${request.path}`, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        redirect: 'manual',
        // Covers reading the body too: a service that stalls mid-answer is as late as one that never answers.
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        return unavailable(502, `the ${service.name} service answered ${res.status} (a redirect, not followed)`);
      }
      const text = await readCapped(res, this.options.maxResponseBytes);
      if (text === undefined) {
        return unavailable(
          502,
          `the ${service.name} service answered more than ${this.options.maxResponseBytes} bytes`,
        );
      }
      if (text === '') return { kind: 'answer', status: res.status, body: undefined };
      try {
        return { kind: 'answer', status: res.status, body: JSON.parse(text) as unknown };
      } catch {
        return unavailable(502, `the ${service.name} service answered ${res.status} with a body that is not JSON`);
      }
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        return unavailable(504, `the ${service.name} service did not answer within ${timeoutMs} ms`);
      }
      const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
      const code = typeof cause?.code === 'string' ? `: ${cause.code}` : '';
      return unavailable(502, `the ${service.name} service could not be reached${code}`);
    }
  }
}

const unavailable = (status: 502 | 504, detail: string): ServiceAnswer => ({ kind: 'unavailable', status, detail });

/** The body as text, or undefined once it passes `maxBytes` (the rest is not read). */
async function readCapped(res: Response, maxBytes: number): Promise<string | undefined> {
  if (!res.body) return '';
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
