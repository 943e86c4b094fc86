import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  Matches,
  MaxLength,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { OptionalProperty } from '@orderflow/platform';
import {
  type NotificationPolicy,
  parseDuration,
  type RetrySchedule,
  type RetryStrategy,
  validateStrategy,
} from '../retry-schedule.js';

const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
/** Longer than any duration a schedule could use (a year is 365d); the pattern alone would take any number of digits. */
const DURATION_CHARS = 20;
const DURATION_MESSAGE = '$property must be a duration such as 250ms, 30s, 4m, 1h or 1d';
const STRATEGIES = ['intervals', 'fixed', 'exponential'] as const;

export class RetryScheduleDto {
  @ApiProperty({ enum: STRATEGIES, description: 'A custom list of waits, a fixed wait, or exponential growth' })
  @IsIn(STRATEGIES)
  strategy: (typeof STRATEGIES)[number];

  @ApiPropertyOptional({ example: ['4m', '10m', '1h'], description: 'intervals: the wait before each retry' })
  @ValidateIf((o: RetryScheduleDto) => o.strategy === 'intervals')
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(DURATION, { each: true, message: DURATION_MESSAGE })
  @MaxLength(DURATION_CHARS, { each: true })
  intervals?: string[];

  @ApiPropertyOptional({ example: '5m', description: 'fixed: the wait before every retry' })
  @ValidateIf((o: RetryScheduleDto) => o.strategy === 'fixed')
  @Matches(DURATION, { message: DURATION_MESSAGE })
  @MaxLength(DURATION_CHARS)
  interval?: string;

  @ApiPropertyOptional({ example: '1m', description: 'exponential: the first wait' })
  @ValidateIf((o: RetryScheduleDto) => o.strategy === 'exponential')
  @Matches(DURATION, { message: DURATION_MESSAGE })
  @MaxLength(DURATION_CHARS)
  initial?: string;

  @ApiPropertyOptional({ example: 2, description: 'exponential: each wait is the last times this' })
  @ValidateIf((o: RetryScheduleDto) => o.strategy === 'exponential')
  @IsNumber()
  @Min(1)
  @Max(10)
  factor?: number;

  @ApiPropertyOptional({ example: '6h', description: 'exponential: the longest wait' })
  @ValidateIf((o: RetryScheduleDto) => o.strategy === 'exponential')
  @Matches(DURATION, { message: DURATION_MESSAGE })
  @MaxLength(DURATION_CHARS)
  max?: string;

  @ApiPropertyOptional({ example: 7, description: 'fixed and exponential: how many retries after the first attempt' })
  @ValidateIf((o: RetryScheduleDto) => o.strategy !== 'intervals')
  @IsInt()
  @Min(0)
  @Max(50)
  retries?: number;

  @ApiPropertyOptional({ example: '30s', description: 'Wait from the status change to the first attempt' })
  @OptionalProperty()
  @Matches(DURATION, { message: DURATION_MESSAGE })
  @MaxLength(DURATION_CHARS)
  firstAttemptDelay?: string;
}

export class ScheduleByStatusDto {
  @ApiPropertyOptional({ type: RetryScheduleDto })
  @OptionalProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryScheduleDto)
  CONFIRMED?: RetryScheduleDto;

  @ApiPropertyOptional({ type: RetryScheduleDto })
  @OptionalProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryScheduleDto)
  SHIPPED?: RetryScheduleDto;

  @ApiPropertyOptional({ type: RetryScheduleDto })
  @OptionalProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryScheduleDto)
  DELIVERED?: RetryScheduleDto;

  @ApiPropertyOptional({ type: RetryScheduleDto })
  @OptionalProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryScheduleDto)
  CANCELLED?: RetryScheduleDto;
}

/** A merchant's notification schedule; what it leaves out follows the service's default schedule. */
export class NotificationPolicyDto {
  @ApiPropertyOptional({ type: RetryScheduleDto, description: 'For every status not named in byStatus' })
  @OptionalProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryScheduleDto)
  default?: RetryScheduleDto;

  @ApiPropertyOptional({ type: ScheduleByStatusDto })
  @OptionalProperty()
  @IsObject()
  @ValidateNested()
  @Type(() => ScheduleByStatusDto)
  byStatus?: ScheduleByStatusDto;
}

/** Throws InvalidRetrySchedule for a schedule that is well-formed but not sensible (e.g. max below initial). */
export function toPolicy(dto: NotificationPolicyDto): NotificationPolicy {
  const byStatus = Object.fromEntries(
    Object.entries(dto.byStatus ?? {})
      .filter(([, schedule]) => schedule !== undefined)
      .map(([status, schedule]) => [status, toSchedule(schedule as RetryScheduleDto)]),
  );
  return {
    ...(dto.default && { default: toSchedule(dto.default) }),
    ...(Object.keys(byStatus).length > 0 && { byStatus }),
  };
}

function toSchedule(dto: RetryScheduleDto): RetrySchedule {
  const ms = (text: string | undefined) => parseDuration(text ?? '0ms');
  let strategy: RetryStrategy;
  switch (dto.strategy) {
    case 'intervals':
      strategy = { kind: 'intervals', intervalsMs: (dto.intervals ?? []).map((i) => parseDuration(i)) };
      break;
    case 'fixed':
      strategy = { kind: 'fixed', intervalMs: ms(dto.interval), retries: dto.retries ?? 0 };
      break;
    case 'exponential':
      strategy = {
        kind: 'exponential',
        initialMs: ms(dto.initial),
        factor: dto.factor ?? 2,
        maxMs: ms(dto.max),
        retries: dto.retries ?? 0,
      };
      break;
  }
  return { strategy: validateStrategy(strategy), firstAttemptDelayMs: ms(dto.firstAttemptDelay) };
}

/** The stored policy in the shape the API takes, so what is read back can be sent again. */
export function fromPolicy(policy: NotificationPolicy | undefined): NotificationPolicyDto {
  if (!policy) return {};
  const byStatus = Object.fromEntries(
    Object.entries(policy.byStatus ?? {}).map(([status, schedule]) => [status, fromSchedule(schedule!)]),
  );
  return {
    ...(policy.default && { default: fromSchedule(policy.default) }),
    ...(Object.keys(byStatus).length > 0 && { byStatus }),
  };
}

function fromSchedule({ strategy, firstAttemptDelayMs }: RetrySchedule): RetryScheduleDto {
  const delay = firstAttemptDelayMs > 0 ? { firstAttemptDelay: formatDuration(firstAttemptDelayMs) } : {};
  switch (strategy.kind) {
    case 'intervals':
      return { strategy: 'intervals', intervals: strategy.intervalsMs.map(formatDuration), ...delay };
    case 'fixed':
      return { strategy: 'fixed', interval: formatDuration(strategy.intervalMs), retries: strategy.retries, ...delay };
    case 'exponential':
      return {
        strategy: 'exponential',
        initial: formatDuration(strategy.initialMs),
        factor: strategy.factor,
        max: formatDuration(strategy.maxMs),
        retries: strategy.retries,
        ...delay,
      };
  }
}

/** The largest unit that states `ms` exactly: 240000 → "4m", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
