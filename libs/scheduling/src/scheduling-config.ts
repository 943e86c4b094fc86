import { z } from 'zod';

/** Scheduler settings of a service that schedules work; merged into its configuration schema. */
export const schedulingConfigShape = {
  /** How often each replica looks for due jobs; work scheduled in this process is looked for at once. */
  SCHEDULER_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(500),
};

export type SchedulingConfig = z.infer<z.ZodObject<typeof schedulingConfigShape>>;
