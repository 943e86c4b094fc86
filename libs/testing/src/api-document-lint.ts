/**
 * Spectral over orderflow's API documents: the OpenAPI documents the services serve at /docs/openapi.json, with the
 * `oas` recommended rules and the OWASP API Security Top 10 ruleset, and docs/asyncapi.yaml with the `asyncapi`
 * recommended rules. `apiDocumentErrors` returns each error-severity result as one readable line; tests fail on any.
 *
 * The OWASP rules that do not fit a deliberate design of this product are switched off or replaced below, one by one,
 * each with the reason; everything else runs as published.
 */
import spectralCore, { type RulesetDefinition } from '@stoplight/spectral-core';
import Parsers from '@stoplight/spectral-parsers';
import spectralRulesets from '@stoplight/spectral-rulesets';
import owaspRuleset from '@stoplight/spectral-owasp-ruleset';

const { Document, Spectral } = spectralCore;
const { asyncapi, oas } = spectralRulesets;
type RuleFunction = (input: unknown, options: unknown, context: { path: (string | number)[] }) => unknown;

const ERROR = 0;

/**
 * The throttler sends `X-RateLimit-Limit`, `-Remaining` and `-Reset` on every answer of a rate-limited operation that
 * got past it (libs/platform/src/access/access.guards.ts). OWASP's `api4:2023-rate-limit` asks that of every 2xx and
 * 4xx of every operation; here it is asked of the operations that are rate-limited (those that document a 429), and
 * not of their 413 (the body is refused before the throttler counts it) nor their 429 (which carries Retry-After,
 * checked by `api4:2023-rate-limit-retry-after`). Health probes are not rate-limited and document no 429.
 */
const rateLimitHeadersOnRateLimitedOperations: RuleFunction = (operation, _options, context) => {
  const responses = (operation as { responses?: Record<string, { headers?: Record<string, unknown> }> }).responses;
  if (!responses || !('429' in responses)) return [];
  return Object.entries(responses)
    .filter(([status]) => /^[24]/.test(status) && status !== '413' && status !== '429')
    .filter(([, response]) => !response.headers?.['X-RateLimit-Limit'] || !response.headers['X-RateLimit-Reset'])
    .map(([status]) => ({
      message: `the ${status} answer of a rate-limited operation documents no X-RateLimit-Limit and X-RateLimit-Reset`,
      path: [...context.path, 'responses', status],
    }));
};

/** Each error answer (4xx, 5xx) is an RFC 9457 problem with its schema, as ProblemDetailsFilter sends every error. */
const problemSchemaOnErrors: RuleFunction = (operation, _options, context) => {
  const responses = (operation as { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> })
    .responses;
  return Object.entries(responses ?? {})
    .filter(([status, response]) => /^[45]/.test(status) && !response.content?.['application/problem+json']?.schema)
    .map(([status]) => ({
      message: `the ${status} answer documents no application/problem+json schema`,
      path: [...context.path, 'responses', status],
    }));
};

/** Every operation says what it does (`summary`) and, for whom and with what guarantees, `description`. */
const summaryAndDescription: RuleFunction = (operation, _options, context) =>
  (['summary', 'description'] as const)
    .filter((field) => !(operation as Record<string, unknown>)[field])
    .map((field) => ({ message: `the operation has no ${field}`, path: [...context.path] }));

/**
 * Findings that are wrong about one place, each with why; the rule still runs everywhere else. A JSON path prefix
 * (dotted, as printed) and a rule.
 */
const FALSE_POSITIVES: { rule: string; at: string; why: string }[] = [
  {
    rule: 'owasp:api2:2023-no-credentials-in-url',
    at: 'paths./merchants/{id}/webhook-secrets/{secretId}',
    why: '`secretId` is the public id of a webhook secret (as an API key has a `keyId`), never the secret itself',
  },
  // Lists no rule bounds, answered whole: each grows only by an operator's hand, one credential or one redelivery
  // (of at most 51 attempts) at a time, and paging them would make a merchant's or a notification's page partial.
  {
    rule: 'owasp:api4:2023-array-limit',
    at: 'components.schemas.MerchantResponse.properties.apiKeys',
    why: 'active API keys: one per key an operator issued and did not revoke',
  },
  {
    rule: 'owasp:api4:2023-array-limit',
    at: 'components.schemas.MerchantResponse.properties.webhookSecrets',
    why: 'active webhook secrets: one per secret an operator issued and did not revoke',
  },
  {
    rule: 'owasp:api4:2023-array-limit',
    at: 'components.schemas.NotificationResponse.properties.attempts',
    why: 'every attempt of every round; a new round starts only when an operator redelivers',
  },
];

const openApiRuleset = {
  extends: [
    [oas, 'recommended'],
    [owaspRuleset, 'all'],
  ],
  rules: {
    // No service sends CORS headers, on purpose: browsers reach them from the same origin only (the operator
    // console is served by the saga orchestrator), so an Access-Control-Allow-Origin would only widen who may call.
    'owasp:api8:2023-define-cors-origin': 'off',
    'orderflow:summary-and-description': {
      description: 'Every operation has a summary and a description',
      severity: 'error',
      given: '$.paths[*][get,put,post,delete,patch]',
      then: { function: summaryAndDescription },
    },
    'orderflow:problem-schema': {
      description: 'Every error answer documents its application/problem+json schema',
      severity: 'error',
      given: '$.paths[*][get,put,post,delete,patch]',
      then: { function: problemSchemaOnErrors },
    },
    'owasp:api4:2023-rate-limit': 'off',
    'orderflow:rate-limit-headers': {
      description: 'A rate-limited operation documents the rate limiter’s headers on the answers that carry them',
      severity: 'error',
      given: '$.paths[*][get,put,post,delete,patch]',
      then: { function: rateLimitHeadersOnRateLimitedOperations },
    },
    // Servers are not declared: each document is served by the service it describes, at the address it is read from
    // (and behind an ingress that terminates TLS), so an https URL here would be a guess. With no servers there is
    // nothing for the https and inventory rules to check.
  },
} as unknown as RulesetDefinition;

const asyncApiRuleset = { extends: [[asyncapi, 'recommended']] } as unknown as RulesetDefinition;

export type ApiDocumentKind = 'openapi' | 'asyncapi';

/** Every error-severity result of the document's ruleset, as `<source> <json path> <rule>: <message>` lines. */
export async function apiDocumentErrors(kind: ApiDocumentKind, text: string, source: string): Promise<string[]> {
  const spectral = new Spectral();
  spectral.setRuleset(kind === 'openapi' ? openApiRuleset : asyncApiRuleset);
  const document = source.endsWith('.json')
    ? new Document(text, Parsers.Json, source)
    : new Document(text, Parsers.Yaml, source);
  const results = await spectral.run(document);
  return results
    .filter((result) => (result.severity as number) === ERROR)
    .map((result) => ({ rule: String(result.code), at: result.path.join('.'), message: result.message }))
    .filter(({ rule, at }) => !FALSE_POSITIVES.some((known) => known.rule === rule && at.startsWith(known.at)))
    .map(({ rule, at, message }) => `${source} ${at || '(root)'} ${rule}: ${message}`);
}
