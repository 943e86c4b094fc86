/**
 * How a handler says what went wrong, classified once: a TransientError is retried with backoff; a PermanentError
 * goes straight to the dead-letter queue. Anything else is treated as transient, within the attempt limit.
 */
export class TransientError extends Error {
  override name = 'TransientError';
}

export class PermanentError extends Error {
  override name = 'PermanentError';
}

/**
 * The message cannot be handled at all: not JSON, not a CloudEvent, an unknown type, data its schema refuses, or sent
 * by a broker user that does not own it.
 */
export class UndeliverableMessage extends PermanentError {
  override name = 'UndeliverableMessage';
  constructor(
    message: string,
    readonly reason:
      'undecodable' | 'invalid-envelope' | 'unknown-type' | 'invalid-data' | 'unhandled-type' | 'wrong-publisher',
  ) {
    super(message);
  }
}
