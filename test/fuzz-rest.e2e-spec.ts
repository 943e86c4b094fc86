// Every operation of every service's served OpenAPI document, driven with generated bad input — wrong types, bounds,
// encodings, missing and extra fields, nesting, huge values, odd headers — as an operator, as a merchant and as no one:
// no answer may be a 5xx. A 5xx is a bug (a crash, a failed cast, a stack overflow) or a lie about the caller's
// mistake; either way the request that caused it is printed. Webhook receivers get their bodies signed, so the
// fuzzing reaches past the signature check. Deterministic: the generated values come from a fixed seed.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import {
  asOperator,
  bearer,
  createMerchant,
  ServiceProcess,
  signedWebhookHeaders,
  type TestMerchant,
  webhookSecret,
} from '@orderflow/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Enough for every request here: a 429 would stop the fuzzing short of validation.
const services = Object.fromEntries(
  SERVICE_NAMES.map((name) => [name, new ServiceProcess(name, { RATE_LIMIT_REQUESTS: '1000000' })]),
) as Record<ServiceName, ServiceProcess>;
let merchant: TestMerchant;

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  example?: unknown;
  allOf?: Schema[];
  oneOf?: Schema[];
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; schema?: Schema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
type OpenApi = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

interface Driven {
  service: ServiceName;
  method: string;
  path: string;
  operation: Operation;
  document: OpenApi;
}

interface Attempt {
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  what: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const SEED = 20261205;
const sample = <T>(arbitrary: fc.Arbitrary<T>, n: number, salt: number): T[] =>
  fc.sample(arbitrary, { numRuns: n, seed: SEED + salt });

/** Values that are wrong for almost any field, or right at the edge of one. */
const WRONG_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER + 2,
  -1e308,
  '',
  ' ',
  'x',
  '\u0000',
  'a\uD800b',
  '😀'.repeat(300),
  'x'.repeat(20_000),
  '-1',
  '1e309',
  '00000000-0000-0000-0000-000000000000',
  '2020|------------------------------------',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  [],
  [null],
  {},
  { $ne: null },
  { __proto__: { polluted: true } },
];

const PATH_VALUES = [
  '0',
  'x',
  '00000000-0000-0000-0000-000000000000',
  randomUUID(),
  '%00',
  '%ZZ',
  'a'.repeat(3_000),
  '%F0%9F%98%80',
  '..%2F..%2Fetc%2Fpasswd',
  '-1',
  '1e309',
  '%E0%A4%A',
];

const QUERY_VALUES = [
  '',
  'x',
  '-1',
  '0',
  '1.5',
  '99999999999999999999',
  '%00',
  '%ZZ',
  'a'.repeat(3_000),
  '%5B%5D',
  'null',
  Buffer.from(`2020|${'-'.repeat(36)}`).toString('base64url'),
  Buffer.from(JSON.stringify(['0', randomUUID()])).toString('base64url'),
];

function resolve(schema: Schema | undefined, document: OpenApi): Schema {
  if (!schema) return {};
  if (schema.$ref) return resolve(document.components?.schemas?.[schema.$ref.split('/').pop()!], document);
  if (schema.allOf?.length) return resolve(schema.allOf[0], document);
  if (schema.oneOf?.length) return resolve(schema.oneOf[0], document);
  return schema;
}

/** A plausible value for a schema: its example, its first enum value, or one of its type. */
function plausible(schema: Schema | undefined, document: OpenApi, depth = 0): unknown {
  const s = resolve(schema, document);
  if (s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum[0];
  if (depth > 6) return null;
  switch (s.type) {
    case 'object':
    case undefined:
      // Required properties only: an optional one with an example that cannot work here (a callback URL that does
      // not resolve) would have every variant refused before the rest of the body is looked at. The variants below
      // add each optional property with each wrong value.
      return Object.fromEntries(
        Object.entries(s.properties ?? {})
          .filter(([k]) => !s.required || s.required.includes(k))
          .map(([k, v]) => [k, plausible(v, document, depth + 1)]),
      );
    case 'array':
      return [plausible(s.items, document, depth + 1)];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    default:
      return 'value';
  }
}

/** Every property path of a plausible body, with the schema there. */
function paths(schema: Schema | undefined, document: OpenApi, prefix: string[] = [], depth = 0): string[][] {
  const s = resolve(schema, document);
  if (depth > 5) return [];
  const own = Object.entries(s.properties ?? {}).flatMap(([k, v]) => [
    [...prefix, k],
    ...paths(v, document, [...prefix, k], depth + 1),
  ]);
  const item = s.type === 'array' ? paths(s.items, document, [...prefix, '0'], depth + 1) : [];
  return [...own, ...item];
}

function setAt(value: unknown, path: string[], replacement: unknown, remove = false): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') return copy;
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const deep = (levels: number) => Buffer.from(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

/** The bodies to try for an operation that takes one. */
function bodies(driven: Driven): { body: Buffer; what: string }[] {
  const content = driven.operation.requestBody?.content ?? {};
  const schema = Object.values(content)[0]?.schema;
  const base = plausible(schema, driven.document);
  const out: { body: Buffer; what: string }[] = [{ body: json(base), what: 'a plausible body' }];
  for (const path of paths(schema, driven.document)) {
    out.push({ body: json(setAt(base, path, undefined, true)), what: `without ${path.join('.')}` });
    for (const [i, wrong] of WRONG_VALUES.entries()) {
      out.push({ body: json(setAt(base, path, wrong)), what: `${path.join('.')} = wrong value #${i}` });
    }
  }
  out.push({ body: json({ ...(base as object), unexpected: 'field' }), what: 'an extra field' });
  for (const [i, value] of sample(fc.jsonValue({ maxDepth: 4 }), 15, 1).entries()) {
    out.push({ body: json(value), what: `random JSON #${i}` });
  }
  for (const raw of ['', '{', '{"a":', 'null', '"text"', '[]', '[[[[', '{"__proto__":{"x":1}}', '\u0000', '{}}']) {
    out.push({ body: Buffer.from(raw), what: `raw ${JSON.stringify(raw)}` });
  }
  out.push({ body: deep(15_000), what: 'JSON nested 15,000 levels' });
  out.push({ body: deep(40), what: 'JSON nested 40 levels' });
  out.push({ body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), what: 'invalid UTF-8' });
  out.push({ body: Buffer.from(`{"x":"${'a'.repeat(2_000_000)}"}`), what: 'a 2 MB body' });
  return out;
}

/** Concrete paths for an OpenAPI path template: plausible parameters, then each bad one in turn. */
function pathsFor(template: string, parameters: Parameter[]): { path: string; what: string }[] {
  const names = parameters.filter((p) => p.in === 'path').map((p) => p.name);
  const fill = (override: Record<string, string>) =>
    template.replace(/\{([^}]+)\}/g, (_, name: string) => override[name] ?? randomUUID());
  const out = [{ path: fill({}), what: 'plausible path parameters' }];
  for (const name of names) {
    for (const value of PATH_VALUES)
      out.push({ path: fill({ [name]: value }), what: `path ${name} = ${value.slice(0, 40)}` });
  }
  return out;
}

function queriesFor(parameters: Parameter[]): { query: string; what: string }[] {
  const names = parameters.filter((p) => p.in === 'query').map((p) => p.name);
  const out = [{ query: '?unexpected=1', what: 'an unknown query parameter' }];
  for (const name of names) {
    for (const value of QUERY_VALUES) out.push({ query: `?${name}=${value}`, what: `${name} = ${value.slice(0, 40)}` });
    out.push({ query: `?${name}=1&${name}=2`, what: `${name} twice` });
    out.push({ query: `?${name}[a]=1`, what: `${name} as an object` });
  }
  return out;
}

const ODD_HEADERS: { headers: Record<string, string>; what: string }[] = [
  { headers: { 'content-type': 'text/plain' }, what: 'content-type text/plain' },
  { headers: { 'content-type': 'application/x-www-form-urlencoded' }, what: 'a form content type' },
  { headers: { 'content-type': 'application/json; charset=utf-16' }, what: 'JSON in UTF-16' },
  { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, what: 'gzip that is not' },
  { headers: { 'idempotency-key': 'k'.repeat(300) }, what: 'a long Idempotency-Key' },
  { headers: { 'idempotency-key': ' ' }, what: 'a blank Idempotency-Key' },
  { headers: { 'idempotency-key': '\u00e9\u00e8' }, what: 'a Latin-1 Idempotency-Key' },
  { headers: { authorization: 'Bearer' }, what: 'Bearer and nothing' },
  { headers: { authorization: `Bearer ${'a'.repeat(6_000)}` }, what: 'a 6,000-character bearer' },
  { headers: { authorization: 'Basic Zm9vOmJhcg==' }, what: 'Basic credentials' },
  { headers: { authorization: `Bearer ofk_${'0'.repeat(16)}_x` }, what: 'a malformed API key' },
  { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }, what: 'an unsigned JWT' },
  { headers: { accept: 'application/xml' }, what: 'accept XML' },
  { headers: { traceparent: 'zz-not-a-trace' }, what: 'a bad traceparent' },
];

function send(base: string, method: string, attempt: Attempt): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const url = new URL(base);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: method.toUpperCase(),
        path: attempt.path,
        headers: {
          ...(attempt.body && { 'content-type': 'application/json', 'content-length': String(attempt.body.length) }),
          ...attempt.headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    if (attempt.body) req.write(attempt.body);
    req.end();
  });
}

/** The attempts for one operation, each as the given caller (and some as no one). */
function attemptsFor(driven: Driven): Attempt[] {
  const parameters = driven.operation.parameters ?? [];
  const webhook = /webhooks|deliveries/.test(driven.path) && driven.method === 'post';
  const secret = driven.service === 'payment' ? 'PAYMENT_GATEWAY_WEBHOOK_SECRET' : 'CARRIER_WEBHOOK_SECRET';
  const callers = webhook ? [{}] : [asOperator(), bearer(merchant.apiKey), {} as Record<string, string>];
  const takesBody = driven.operation.requestBody !== undefined;
  const [plainPath] = pathsFor(driven.path, parameters);
  const out: Attempt[] = [];
  const add = (path: string, headers: Record<string, string>, body: Buffer | undefined, what: string) => {
    const signed = webhook && body ? signedWebhookHeaders(webhookSecret(secret), body.toString('utf8')) : {};
    for (const caller of callers) out.push({ path, headers: { ...caller, ...signed, ...headers }, body, what });
  };
  const plainBody = takesBody ? bodies(driven)[0].body : undefined;
  for (const { path, what } of pathsFor(driven.path, parameters)) add(path, {}, plainBody, what);
  for (const { query, what } of queriesFor(parameters)) add(`${plainPath.path}${query}`, {}, plainBody, what);
  if (takesBody) for (const { body, what } of bodies(driven)) add(plainPath.path, {}, body, what);
  for (const { headers, what } of ODD_HEADERS) {
    // The caller's own Authorization stays unless the odd header replaces it.
    out.push({ path: plainPath.path, headers: { ...asOperator(), ...headers }, body: plainBody, what });
  }
  return out;
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

beforeAll(async () => {
  await Promise.all(Object.values(services).map((s) => s.start().waitReady()));
  merchant = await createMerchant(services.order.url, 'Fuzzed merchant');
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services).map((s) => s.stop()));
});

describe('every operation of every OpenAPI document, given bad input', () => {
  it('answers without a 5xx', async () => {
    const operations: Driven[] = [];
    let documented = 0;
    for (const service of SERVICE_NAMES) {
      const document = (await (await fetch(`${services[service].url}/docs/openapi.json`)).json()) as OpenApi;
      for (const [path, item] of Object.entries(document.paths)) {
        for (const method of METHODS.filter((m) => item[m])) {
          documented += 1;
          operations.push({ service, method, path, operation: item[method], document });
        }
      }
    }
    expect(documented).toBeGreaterThan(30);

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let requests = 0;
    const driven = new Set<string>();
    for (const op of operations) {
      const attempts = attemptsFor(op);
      await inParallel(attempts, 8, async (attempt) => {
        const status = await send(services[op.service].url, op.method, attempt);
        requests += 1;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500) {
          const body = attempt.body ? ` body ${attempt.body.subarray(0, 200).toString('utf8')}` : '';
          failures.push(
            `${status} ${op.method.toUpperCase()} ${op.service}${attempt.path.slice(0, 200)} (${attempt.what})${body}`,
          );
        }
      });
      driven.add(`${op.service} ${op.method} ${op.path}`);
    }
    console.log(`fuzzed ${driven.size} operations of ${documented} with ${requests} requests`, [...statuses]);
    expect(driven.size).toBe(documented);
    // The input reached validation (400), and plausible requests got through it: the fuzzing was not all refused at
    // the door (401, 403, 429).
    expect(statuses.get(400) ?? 0).toBeGreaterThan(requests / 4);
    expect([...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(50);
    expect(failures).toEqual([]);
  }, 900_000);
});
