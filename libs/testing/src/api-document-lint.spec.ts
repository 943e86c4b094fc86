// The Spectral lint of the API documents (api-document-lint.ts): docs/asyncapi.yaml passes it, and it would report
// what it is there to catch — an OpenAPI document with an unbounded string, an error answer without its problem
// schema, an operation without a description, a rate-limited answer without the rate limiter's headers — while the
// same document without those faults passes. The served OpenAPI documents are linted by test/api-docs.e2e-spec.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiDocumentErrors } from './api-document-lint.js';

const ASYNCAPI = new URL('../../../docs/asyncapi.yaml', import.meta.url);

const COUNT = { type: 'integer', format: 'int32', minimum: 0, maximum: 1000 };
const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': { schema: COUNT },
  'X-RateLimit-Remaining': { schema: COUNT },
  'X-RateLimit-Reset': { schema: COUNT },
};
const PROBLEM = {
  'application/problem+json': {
    schema: {
      type: 'object',
      properties: { title: { type: 'string', maxLength: 200 }, status: { ...COUNT, minimum: 400, maximum: 599 } },
    },
  },
};

/** A small document in the shape the services serve: one rate-limited operation, everything bounded. */
function document() {
  return {
    openapi: '3.0.0',
    info: {
      title: 'A service',
      version: '1.0.0',
      description: 'For this test',
      contact: { name: 'orderflow' },
    },
    tags: [{ name: 'things', description: 'Things' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A credential' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/things': {
        post: {
          operationId: 'createThing',
          tags: ['things'],
          summary: 'Create a thing',
          description: 'Operators only; not idempotent.',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    name: { type: 'string', maxLength: 200, pattern: '^[a-z]+$' },
                    tags: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 20, format: 'slug' } },
                  },
                },
              },
            },
          },
          responses: {
            '201': { description: 'Created', headers: { ...RATE_LIMIT_HEADERS } },
            '400': { description: 'Invalid', headers: { ...RATE_LIMIT_HEADERS }, content: PROBLEM },
            '401': { description: 'No credential', headers: { ...RATE_LIMIT_HEADERS }, content: PROBLEM },
            '429': { description: 'Too many', headers: { 'Retry-After': { schema: COUNT } }, content: PROBLEM },
            '500': { description: 'Failed', content: PROBLEM },
          },
        },
      },
    },
  };
}

type Doc = ReturnType<typeof document>;
const lint = (doc: Doc) => apiDocumentErrors('openapi', JSON.stringify(doc), 'test/openapi.json');
const rulesOf = (errors: string[]) => new Set(errors.map((line) => line.split(' ')[2].replace(/:$/, '')));

describe('the API document lint', () => {
  it('passes docs/asyncapi.yaml', async () => {
    const errors = await apiDocumentErrors('asyncapi', readFileSync(ASYNCAPI, 'utf8'), 'docs/asyncapi.yaml');
    expect(errors, errors.join('\n')).toEqual([]);
    // The whole AsyncAPI document is parsed and checked: seconds on a busy machine.
  }, 60_000);

  it('passes a document without faults', async () => {
    const errors = await lint(document());
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('would report an unbounded string, and say where', async () => {
    const doc = document();
    const name = doc.paths['/things'].post.requestBody.content['application/json'].schema.properties.name as {
      maxLength?: number;
    };
    delete name.maxLength;
    const errors = await lint(doc);
    expect(errors).toContainEqual(expect.stringMatching(/properties\.name owasp:api4:2023-string-limit: /));
  });

  it('would report an error answer without its problem schema', async () => {
    const doc = document();
    delete (doc.paths['/things'].post.responses['400'] as { content?: unknown }).content;
    expect(rulesOf(await lint(doc))).toContain('orderflow:problem-schema');
  });

  it('would report an operation without a description', async () => {
    const doc = document();
    delete (doc.paths['/things'].post as { description?: string }).description;
    expect(rulesOf(await lint(doc))).toContain('orderflow:summary-and-description');
  });

  it('would report a rate-limited answer without the rate limiter’s headers', async () => {
    const doc = document();
    delete (doc.paths['/things'].post.responses['201'] as { headers?: unknown }).headers;
    expect(rulesOf(await lint(doc))).toContain('orderflow:rate-limit-headers');
  });

  it('would report a 429 without Retry-After', async () => {
    const doc = document();
    (doc.paths['/things'].post.responses['429'] as { headers: unknown }).headers = {};
    expect(rulesOf(await lint(doc))).toContain('owasp:api4:2023-rate-limit-retry-after');
  });
});
