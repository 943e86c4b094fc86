/**
 * One typed, validated configuration object per service, read from the environment once at start-up.
 * A missing or malformed variable stops the process before anything connects, with the variable named.
 */
import { z } from 'zod';
import { refuseWeakSecrets, refuseWeakUrlPassword } from './weak-secrets.js';

export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const postgresUrl = z
  .url({ protocol: /^postgres(ql)?$/, message: 'expected a postgres:// URL' })
  .superRefine(refuseWeakUrlPassword)
  .describe('PostgreSQL connection URL of this service’s own database');

/**
 * One RabbitMQ URL, or one per node of a cluster reached directly, comma-separated (the broker connection tries them
 * in turn). Inside Kubernetes the cluster's Service is the one URL. A bad entry is named by its position only: the
 * URLs carry the service's password.
 */
const amqpUrls = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean),
  )
  .superRefine((urls, ctx) => {
    if (urls.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one amqp:// URL' });
    urls.forEach((url, i) => {
      if (!isAmqpUrl(url)) {
        const which = urls.length === 1 ? '' : ` (entry ${i + 1} of ${urls.length})`;
        ctx.addIssue({ code: 'custom', message: `expected an amqp:// or amqps:// URL${which}` });
      } else {
        refuseWeakUrlPassword(url, ctx);
      }
    });
  })
  .describe(
    'RabbitMQ URLs (one per cluster node, comma-separated) with this service’s own user and the orderflow vhost',
  );

function isAmqpUrl(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && /^amqps?:$/.test(url.protocol) && url.hostname !== '';
}

/**
 * Operator bearer tokens, comma-separated so a new one can be added before the old one is removed. Long random
 * strings only: a short token is a guessable one.
 */
const operatorTokens = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((token) => token.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .min(32, 'each token needs at least 32 characters')
          .regex(/^[\x21-\x7e]+$/, 'visible ASCII only'),
      )
      .min(1)
      .superRefine(refuseWeakSecrets),
  )
  .describe('operator bearer tokens, comma-separated');

/** An AES-256 key: 32 random bytes, base64 (`openssl rand -base64 32`); never an example or a repeated byte. */
export const aes256Key = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'expected 32 bytes, base64-encoded (openssl rand -base64 32)')
  .superRefine(refuseWeakSecrets);

/** Variables every orderflow service reads. Services extend this with their own. */
export function baseConfigSchema(defaults: { port: number }) {
  return z.object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(1).max(65535).default(defaults.port),
    DATABASE_URL: postgresUrl,
    /**
     * The migration role's URL (the database's owner), for the `migrate` command and development start-up; the
     * service itself never connects with it. Without it, migrations run as DATABASE_URL's role (ADR 0017).
     */
    MIGRATION_DATABASE_URL: postgresUrl.optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    // Parse and plan each statement once per connection (libs/platform/src/database/prepared-statements.ts).
    DATABASE_PREPARED_STATEMENTS: booleanFlag.default(true),
    /** Development start-up migrates its own schema; production runs `npm run migrate` as a deploy step. */
    DATABASE_MIGRATIONS_RUN: booleanFlag.optional(),
    AMQP_URL: amqpUrls,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Upper bound on a graceful shutdown; past it the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
    /** Operator credentials: static tokens, an OIDC issuer, or both (checked by `accessProblems`). */
    OPERATOR_TOKENS: operatorTokens.optional(),
    /** https only; http is taken for a loopback issuer outside production (a developer's or a test's own). */
    OIDC_ISSUER: z.url({ protocol: /^https?$/, message: 'expected an https URL' }).optional(),
    OIDC_AUDIENCE: z.string().min(1).optional(),
    /**
     * An OIDC token makes its bearer an operator only if this claim (a dotted path for a nested one, such as
     * Keycloak's `realm_access.roles`) holds OIDC_OPERATOR_ROLE — as a string, or one of an array's strings.
     */
    OIDC_ROLE_CLAIM: z
      .string()
      .regex(/^[\w-]+(\.[\w-]+)*$/, 'expected a claim name, or a dotted path to one')
      .default('roles'),
    OIDC_OPERATOR_ROLE: z.string().min(1).max(200).default('orderflow-operator'),
    /** Requests per window per credential (per client address when there is none), counted by each replica. */
    RATE_LIMIT_REQUESTS: z.coerce.number().int().min(1).max(1_000_000).default(600),
    RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
    /** The git commit the build came from (the image's build argument), shown in `orderflow_build_info`. */
    ORDERFLOW_COMMIT: z
      .string()
      .regex(/^[0-9a-f]{7,40}$/, 'expected a git commit id: 7 to 40 lowercase hex digits')
      .optional(),
  });
}

export type BaseConfig = z.infer<ReturnType<typeof baseConfigSchema>>;

/** What the rules across variables read: parsed values, or the raw ones when the schema refused others. */
interface AccessSettings {
  OPERATOR_TOKENS?: unknown;
  OIDC_ISSUER?: string;
  OIDC_AUDIENCE?: string;
  NODE_ENV: string;
}

/**
 * Rules across variables, kept out of the schema so that services can still `.extend` it: a service with no way to
 * recognise an operator would answer 401 to every operator endpoint, which is a deployment mistake worth stopping.
 */
export function accessProblems(config: AccessSettings): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  if (!config.OPERATOR_TOKENS && !config.OIDC_ISSUER) {
    problems.push({ variable: 'OPERATOR_TOKENS', message: 'is required unless OIDC_ISSUER is set' });
  }
  if (config.OIDC_ISSUER && !config.OIDC_AUDIENCE) {
    problems.push({ variable: 'OIDC_AUDIENCE', message: 'is required with OIDC_ISSUER' });
  }
  if (config.OIDC_ISSUER && !issuerTransportAllowed(config.OIDC_ISSUER, config.NODE_ENV)) {
    problems.push({
      variable: 'OIDC_ISSUER',
      message: 'must be an https URL (http only for a loopback issuer, and never in production)',
    });
  }
  return problems;
}

/** An issuer's keys and discovery come over TLS, but for a loopback issuer on a developer's machine or in tests. */
function issuerTransportAllowed(issuer: string, nodeEnv: string): boolean {
  if (!URL.canParse(issuer)) return true; // not a URL at all: the schema names that problem
  const url = new URL(issuer);
  if (url.protocol === 'https:') return true;
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  return loopback && nodeEnv !== 'production';
}

export class ConfigurationError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * Parses the environment against the schema. Throws ConfigurationError naming every bad variable
 * (never its value: a value may be a secret).
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  // An empty variable is the same as an unset one, so `FOO= npm start` falls back to the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (result.success) {
    const problems = accessProblems(result.data as BaseConfig);
    if (problems.length > 0) throw new ConfigurationError(problems);
    return result.data;
  }
  const problems = result.error.issues.map((issue) => ({
    variable: issue.path.join('.') || '(environment)',
    message: present[String(issue.path[0])] === undefined ? 'is required' : issue.message,
  }));
  // Every problem at once: the rules across variables too, on the raw values, for the variables not already named.
  const named = new Set(problems.map((p) => p.variable));
  const across = accessProblems({
    OPERATOR_TOKENS: present.OPERATOR_TOKENS,
    OIDC_ISSUER: present.OIDC_ISSUER,
    OIDC_AUDIENCE: present.OIDC_AUDIENCE,
    NODE_ENV: present.NODE_ENV ?? 'development',
  }).filter((p) => !named.has(p.variable));
  throw new ConfigurationError([...problems, ...across]);
}
