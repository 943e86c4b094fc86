// The OpenAPI document each service serves at /docs/openapi.json, linted with Spectral: the `oas` recommended rules,
// the OWASP API Security Top 10 ruleset and orderflow's own (libs/testing/src/api-document-lint.ts). Any error fails
// the test, and each is printed as `<document> <json path> <rule>: <message>`. docs/asyncapi.yaml is linted by the
// unit test beside the lint, since it is a file.
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import { apiDocumentErrors, ServiceProcess } from '@orderflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const services = SERVICE_NAMES.map((name) => new ServiceProcess(name));
const documents = new Map<ServiceName, { status: number; text: string }>();

beforeAll(async () => {
  services.forEach((service) => service.start());
  await Promise.all(services.map((service) => service.waitReady()));
  // All read at once, right after start-up: linting one takes seconds, long enough for an idle keep-alive connection
  // to another service to be closed under a later read.
  await Promise.all(
    services.map(async (service) => {
      const res = await fetch(`${service.url}/docs/openapi.json`);
      documents.set(service.service, { status: res.status, text: await res.text() });
    }),
  );
});

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop().catch(() => service.kill())));
});

describe.each(SERVICE_NAMES)('the %s service’s OpenAPI document', (name) => {
  it('passes Spectral with no error', async () => {
    const { status, text } = documents.get(name)!;
    expect(status).toBe(200);
    // The document linted is the service's own, with its operations in it, not an empty shell.
    expect(Object.keys((JSON.parse(text) as { paths: object }).paths).length).toBeGreaterThan(3);
    const errors = await apiDocumentErrors('openapi', text, `${name}/openapi.json`);
    expect(errors, `${errors.length} Spectral errors:\n${errors.join('\n')}`).toEqual([]);
  });
});
