/**
 * The one spelling of "a UUID" outside zod schemas: for values that reach PostgreSQL's `uuid` casts (cursors, saga
 * correlation ids, dead letters' message ids) and must be refused before a cast fails on them. Any version, either
 * case, as PostgreSQL accepts in its canonical form.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
