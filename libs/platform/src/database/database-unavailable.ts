/**
 * Tells a database that cannot be reached (down, restarting, failing over, or the connection it had was cut) from a
 * statement that failed. The first passes once the database is back — a consumer waits it out, an HTTP request is
 * answered 503 with Retry-After — while the second is the request's or the message's own fault.
 */

/**
 * SQLSTATE class 08 (connection exception), 57P01 admin shutdown (a fast stop ends every session), 57P02 crash
 * shutdown (an immediate stop or a crash of another backend), 57P03 cannot connect now (starting up, shutting down),
 * and the socket errors of a server that is gone.
 */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET']);

const UNAVAILABLE_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_CODES.has(code))) return true;
  return UNAVAILABLE_MESSAGES.test(err.message);
}
