/**
 * Typed domain errors: what a rule refuses, said in words fit for the client (`detail`). Domain and use-case code
 * throws them; ProblemDetailsFilter answers each kind with its status, so no controller maps errors by hand.
 *
 * This file imports nothing, so domain files (which import no NestJS, TypeORM or amqplib) reach it through its own
 * alias, `@orderflow/platform/domain-errors`, instead of the platform barrel, which pulls in NestJS.
 */

export abstract class DomainError extends Error {
  /** Seconds after which the same request may succeed; answered as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(
    /** Shown to the client as the problem's `detail`: no internal detail belongs here. */
    readonly detail: string,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(detail);
    this.name = new.target.name;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The thing asked about does not exist, or is not the caller's to see (404). */
export abstract class NotFound extends DomainError {}

/** The thing's current state refuses the request; the same request may succeed once it changes (409). */
export abstract class Conflict extends DomainError {}

/** The request is well-formed but its content cannot be acted on (422). */
export abstract class Unprocessable extends DomainError {}

/** The request itself is not valid, for a reason beyond its DTO's field checks (400). */
export abstract class InvalidRequest extends DomainError {}
