/**
 * OpenAPI documentation of the values routes share — path parameters with the bounds their pipes enforce, and the ids
 * and times answers carry — so a route does not repeat them (or document an unbounded string).
 */
import { ApiParam } from '@nestjs/swagger';

/** A UUID path parameter, as `ParseUUIDPipe` checks it (a 400 otherwise). */
export const ApiUuidParam = (name: string, description: string): MethodDecorator & ClassDecorator =>
  ApiParam({ name, description, schema: { type: 'string', format: 'uuid', minLength: 36, maxLength: 36 } });

/** A path parameter the route checks against `pattern`, at most `maxLength` characters long. */
export const ApiPatternParam = (
  name: string,
  description: string,
  pattern: RegExp,
  maxLength: number,
): MethodDecorator & ClassDecorator =>
  ApiParam({ name, description, schema: { type: 'string', pattern: pattern.source, minLength: 1, maxLength } });

/** A UUID in an answer: `@ApiProperty({ ...UUID })`. */
export const UUID = { type: 'string', format: 'uuid', minLength: 36, maxLength: 36 } as const;

/** A time in an answer, as `Date.toISOString()` writes it (24 characters). */
export const TIMESTAMP = { type: 'string', format: 'date-time', maxLength: 30 } as const;

/** An amount in minor units, or a count: what a JavaScript number holds exactly. */
export const AMOUNT = { type: 'integer', format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
