/**
 * A node-postgres client that runs each parameterised statement as a named prepared statement of its connection, so
 * PostgreSQL parses and plans a statement once per connection instead of on every call. Measured through the whole
 * suite (bench/RESULTS.md), planning alone took as long as executing: the services send a few dozen distinct
 * statements, tens of thousands of times.
 *
 * Why here and not per call site: TypeORM, which the services' repositories go through, cannot name a statement, and
 * the pool it builds takes its client class from `extra.Client`; so does any pg.Pool. Statements without parameters
 * (transaction control, DDL, several statements in one string) keep the simple protocol, untouched.
 *
 * Bounds: at most MAX_PREPARED_PER_CONNECTION distinct statements are prepared on one connection (statements built
 * with a varying number of placeholders cannot grow a session without limit); past that a statement runs unnamed.
 * Behind a pooler in transaction mode, prepared statements need its protocol-level support (PgBouncer ≥ 1.21 with
 * max_prepared_statements); DATABASE_PREPARED_STATEMENTS=false turns them off.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

const MAX_PREPARED_PER_CONNECTION = 500;
const MAX_NAMES_REMEMBERED = 5_000;

/** Statement text → its name: a digest, so the same text has the same name on every connection. */
const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `of_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size < MAX_NAMES_REMEMBERED) names.set(text, name);
  }
  return name;
}

export class PreparingClient extends pg.Client {
  private readonly prepared = new Set<string>();

  // pg's query() has many overloads; only (text, values[]) with at least one value is rewritten.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (
      typeof text === 'string' &&
      Array.isArray(values) &&
      values.length > 0 &&
      (callback === undefined || typeof callback === 'function')
    ) {
      const name = nameOf(text);
      if (this.prepared.has(name) || this.prepared.size < MAX_PREPARED_PER_CONNECTION) {
        this.prepared.add(name);
        const rewritten: unknown[] = [{ name, text, values }];
        if (callback !== undefined) rewritten.push(callback);
        return (super.query as (...a: unknown[]) => never)(...rewritten);
      }
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}
