import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CORRELATION_HEADER = 'x-correlation-id';

// A caller's id is echoed into logs and responses, so only a short, plain token is taken as it is.
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's correlation id: the caller's `X-Correlation-Id` when it is well-formed, else a new one. */
export function correlationIdOf(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers[CORRELATION_HEADER];
  const id = typeof given === 'string' && SAFE_CORRELATION_ID.test(given) ? given : randomUUID();
  res.setHeader(CORRELATION_HEADER, id);
  return id;
}
