/**
 * The query parameters list endpoints share, each defined once, so that two lists cannot validate or document the
 * same parameter differently. What varies per list (what `since` counts from, how long a page may be) is given where
 * the list declares its query. The bounds reach the OpenAPI document from the validation (validation-bounds.ts).
 */
import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Length, Max, Min } from 'class-validator';

const ISO_INSTANT = { strict: true, strictSeparator: true };

/** An optional ISO 8601 instant, with its date and time both given. */
const InstantQuery = (description: string): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ format: 'date-time', maxLength: 40, description }),
    IsOptional(),
    IsISO8601(ISO_INSTANT),
    Length(10, 40),
  );

/**
 * The base of a list's query filtered by time, `since` ≤ t < `until`, each bound optional; `describe` says what t is
 * in this list. Whether `since` must come before `until` is the list's own rule.
 */
export function TimeRangeQuery(describe: { since: string; until: string }) {
  class TimeRange {
    @InstantQuery(describe.since) since?: string;
    @InstantQuery(describe.until) until?: string;
  }
  return TimeRange;
}

/**
 * How many items a page holds: 1 to `max`, `default` when the query leaves it out. The property's initialiser must
 * repeat the default, since a decorator cannot set an instance's value.
 */
export const PageLimit = (limits: { max: number; default: number }): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: limits.max, default: limits.default }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(limits.max),
  );
