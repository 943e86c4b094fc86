/**
 * Which services the operator console reaches, and where: `CONSOLE_SERVICE_URLS`, e.g.
 * `order=http://127.0.0.1:3000,payment=http://127.0.0.1:3001`. The console's proxy forwards only to these base URLs,
 * so the list is the whole of what it can reach. Unset, the console shows dead letters and notifications as not
 * configured.
 */
import { ConfigurationError, SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import { z } from 'zod';

export const CONSOLE_SERVICE_URLS = 'CONSOLE_SERVICE_URLS';

export interface ConsoleService {
  readonly name: ServiceName;
  /** Without a trailing slash; paths are appended to it. */
  readonly baseUrl: string;
}

const baseUrl = z
  .url({ protocol: /^https?$/, message: 'each URL must be http:// or https://' })
  .refine((value) => {
    const url = new URL(value);
    return !url.username && !url.password && !url.search && !url.hash;
  }, 'a URL may carry no credentials, query or fragment')
  .transform((value) => value.replace(/\/+$/, ''));

const entry = z
  .string()
  .regex(/^[a-z]+=\S+$/, 'expected name=URL')
  .transform((value) => value.split(/=(.*)/s, 2) as [string, string])
  .pipe(
    z
      .tuple([z.enum(SERVICE_NAMES, { message: `names are ${SERVICE_NAMES.join(', ')}` }), baseUrl])
      .transform(([name, url]): ConsoleService => ({ name, baseUrl: url })),
  );

/** The variable's zod schema, so it can join the service's own configuration schema as it is. */
export const consoleServiceUrls = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(entry).min(1))
  .refine(
    (services) => new Set(services.map((s) => s.name)).size === services.length,
    'each service may be named once',
  );

/**
 * The configured services: from the validated configuration when it carries the variable already, else from the
 * environment. Throws ConfigurationError naming the variable (never its value) when it is malformed.
 */
export function consoleServicesFrom(
  config: object,
  env: Record<string, string | undefined> = process.env,
): readonly ConsoleService[] {
  if (CONSOLE_SERVICE_URLS in config) {
    return ((config as Record<string, unknown>)[CONSOLE_SERVICE_URLS] ?? []) as readonly ConsoleService[];
  }
  const raw = env[CONSOLE_SERVICE_URLS];
  // As for every other variable, an empty one is an unset one.
  if (raw === undefined || raw === '') return [];
  const parsed = consoleServiceUrls.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(
    parsed.error.issues.map((issue) => ({ variable: CONSOLE_SERVICE_URLS, message: issue.message })),
  );
}
