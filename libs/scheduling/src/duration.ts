/** Durations as people write them in configuration: "250ms", "30s", "4m", "1.5h", "14d". */
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export class InvalidDuration extends Error {}

export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new InvalidDuration(`"${text}" is not a duration (use e.g. 250ms, 30s, 4m, 1h, 1d)`);
  return Math.round(Number(match[1]) * UNITS[match[2]]);
}

/** A duration as people read it, in the largest unit that divides it: 864000000 → "10d", 90000 → "90s". */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit] && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
