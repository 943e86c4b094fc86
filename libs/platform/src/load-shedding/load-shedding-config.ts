import { z } from 'zod';
import { booleanFlag } from '../config/service-config.js';

/**
 * Settings of a service that refuses new work when its backlog passes a bound; merged into its configuration schema.
 * The bounds themselves belong to the service, which knows what its signals measure.
 */
export const loadSheddingConfigShape = {
  /** `false` turns shedding off: every request is taken, whatever the backlog. */
  LOAD_SHEDDING: booleanFlag.default(true),
  /** How often each replica reads its backlog signals; requests only ever read the last sample. */
  LOAD_SHEDDING_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(100).max(10_000).default(500),
  /** The wait a refused caller is told (Retry-After), spread over up to half as much again. */
  LOAD_SHEDDING_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3_600).default(5),
};

export type LoadSheddingConfig = z.infer<z.ZodObject<typeof loadSheddingConfigShape>>;
