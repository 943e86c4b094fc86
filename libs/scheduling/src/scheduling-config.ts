import { z } from 'zod';
import { parseDuration } from './duration.js';

/** Scheduler settings of a service that schedules work; merged into its configuration schema. */
export const schedulingConfigShape = {
  /** How often each replica looks for due jobs; work scheduled in this process is looked for at once. */
  SCHEDULER_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(500),
};

export type SchedulingConfig = z.infer<z.ZodObject<typeof schedulingConfigShape>>;

/** A duration setting as people write it ("5s", "15m", "10d"), read as milliseconds; a malformed one stops start-up. */
export const durationSetting = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms > 0) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
      return z.NEVER;
    });
