/**
 * Idempotency-Key on the unit of work: a request sent again with the same key and body gets the first answer again,
 * and its work is not done twice. Any HTTP endpoint opts in with `@Idempotent()` (idempotent.decorator.ts); its use
 * case opens its unit of work as usual (`Messaging.transaction` with the request's `workContextOf`) and knows
 * nothing of keys.
 *
 * Guarantee: the key's record (the request's hash and the work's answer) is written in the transaction of the work,
 * so it commits if and only if the work and the messages it states commit. A request that fails or crashes before
 * its commit leaves no record, and its retry does the work; once it has committed, every retry with the same body
 * gets the stored answer and changes nothing.
 *
 * Two requests with one key at once: the first takes a transaction-scoped advisory lock on the key, and the second,
 * finding it held, is refused at once (409, IdempotencyKeyInFlight) instead of waiting behind work that may be slow.
 * The lock dies with the transaction, so a crashed request never blocks its key. A key sent again with another body is
 * refused (422, IdempotencyKeyReused): the body is hashed in a canonical form (keys sorted), so field order does not
 * make two equal requests differ. Keys are scoped by the endpoint (`scope`, the merchant for orders): the same key from
 * two callers names two requests.
 *
 * The table, `idempotency_keys (scope, key, request_hash, response_body, created_at)`, lives in the database of each
 * service that opts in. Like the outbox and inbox tables, it comes with a migration shipped here
 * (idempotency-keys.migration.ts), but one that only a service taking keys lists, not every service. The order
 * service, whose table predates the mechanism, has it from its own migrations instead.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage as HttpRequest } from 'node:http';
import { Conflict, InvalidRequest, Unprocessable } from '@orderflow/platform/domain-errors';
import type { EntityManager } from 'typeorm';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export class IdempotencyKeyInFlight extends Conflict {
  constructor() {
    super('A request with this Idempotency-Key is still being processed; retry later');
  }
}

export class IdempotencyKeyReused extends Unprocessable {
  constructor() {
    super('This Idempotency-Key was used with a different request body');
  }
}

export class InvalidIdempotencyKey extends InvalidRequest {
  constructor() {
    super('Idempotency-Key must be 1–255 visible ASCII characters');
  }
}

/** One request that carried an Idempotency-Key: runs its unit of work's body at most once per (scope, key). */
export class IdempotentRequest {
  private answered = false;
  /** Whether the answer was the stored one of an earlier request, not new work. */
  replayed = false;

  constructor(
    readonly scope: string,
    readonly key: string,
    /** `hashOf` the request body. */
    readonly requestHash: string,
  ) {}

  /**
   * Within the unit of work's transaction (`manager`): the stored answer of this key, or `work`'s answer, recorded
   * in the same transaction. The answer is stored as JSON, so a replay gives what the first answer's JSON said.
   */
  async answer<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
    // A second unit of work under the same key would replay the first one's answer as its own.
    if (this.answered) throw new Error('an idempotent request runs one unit of work');
    this.answered = true;
    const [{ locked }] = await manager.query<{ locked: boolean }[]>(
      'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked',
      [`${this.scope}:${this.key}`],
    );
    if (!locked) throw new IdempotencyKeyInFlight();
    const [earlier] = await manager.query<{ request_hash: string; response_body: T }[]>(
      'SELECT request_hash, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [this.scope, this.key],
    );
    if (earlier) {
      if (earlier.request_hash !== this.requestHash) throw new IdempotencyKeyReused();
      this.replayed = true;
      return earlier.response_body;
    }
    const answer = await work();
    await manager.query(
      'INSERT INTO idempotency_keys (scope, key, request_hash, response_body) VALUES ($1, $2, $3, $4)',
      [this.scope, this.key, this.requestHash, JSON.stringify(answer ?? null)],
    );
    return answer;
  }
}

const IDEMPOTENT_ROUTE = Symbol('orderflow:idempotent-route');

interface IdempotentRoute {
  scopeOf: (req: HttpRequest) => string;
  request?: IdempotentRequest;
}

type RouteRequest = HttpRequest & { body?: unknown; [IDEMPOTENT_ROUTE]?: IdempotentRoute };

/** Marks a request as one to an endpoint that takes Idempotency-Keys (done by `@Idempotent()`). */
export function markIdempotent(req: HttpRequest, scopeOf: (req: HttpRequest) => string): void {
  (req as RouteRequest)[IDEMPOTENT_ROUTE] = { scopeOf };
}

/**
 * The request's Idempotency-Key, when its endpoint takes one and it sent one; the same object for every call. Read
 * when the use case opens its unit of work (not as the request arrives), so a body or a caller the endpoint refuses is
 * answered as such before a malformed key is (InvalidIdempotencyKey). The body is hashed as the endpoint's validation
 * let it through: validation refuses unknown fields and changes no value, so the body is the use case's request.
 */
export function idempotentRequestOf(req: HttpRequest): IdempotentRequest | undefined {
  const route = (req as RouteRequest)[IDEMPOTENT_ROUTE];
  if (!route) return undefined;
  if (route.request) return route.request;
  const key = req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) throw new InvalidIdempotencyKey();
  route.request = new IdempotentRequest(route.scopeOf(req), key, hashOf((req as RouteRequest).body));
  return route.request;
}

/** Whether the request's answer was the one stored for its key, not new work. */
export function wasReplayed(req: HttpRequest): boolean {
  return (req as RouteRequest)[IDEMPOTENT_ROUTE]?.request?.replayed === true;
}

/** A stable hash of a request body: keys sorted, so field order does not make two equal requests differ. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted and undefined members left out, as JSON.stringify leaves them out. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
