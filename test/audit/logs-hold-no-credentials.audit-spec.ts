// After the end-to-end run: every line any service or simulator wrote during it, searched for every credential the
// run used or issued. A key, token or secret in a log line is a leak to whoever reads logs (OWASP API2, API8).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capturedLogsDir, issuedSecretsFile } from '@orderflow/testing';
import { describe, expect, it } from 'vitest';

/** Credentials the suite was configured with: operator token, encryption key, webhook secrets, passwords. */
function configuredSecrets(): string[] {
  const named = [
    'ORDERFLOW_OPERATOR_TOKEN',
    'SECRETS_ENCRYPTION_KEY',
    'PAYMENT_TOKEN_KEY',
    'PAYMENT_GATEWAY_WEBHOOK_SECRET',
    'CARRIER_WEBHOOK_SECRET',
  ].map((name) => process.env[name] ?? '');
  const passwords = Object.entries(process.env)
    .filter(([name]) => /_(DATABASE|AMQP)_URL$/.test(name))
    .map(([, url]) => decodeURIComponent(new URL(url!).password));
  return [...named, ...passwords].filter((secret) => secret.length >= 16);
}

/** Shapes of orderflow credentials, so that one the run did not write down is still caught. */
const CREDENTIAL_SHAPES = [/ofk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/, /whsec_[A-Za-z0-9+/]{40,}/];

describe('the captured logs of the end-to-end run', () => {
  const dir = capturedLogsDir();
  const files = dir && existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : [];
  const logs = files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const issuedFile = issuedSecretsFile();
  const issued =
    issuedFile && existsSync(issuedFile) ? readFileSync(issuedFile, 'utf8').split('\n').filter(Boolean) : [];

  it('cover every service and hold real traffic, so the search below means something', () => {
    const services = new Set(
      logs.flatMap(({ text }) => [...text.matchAll(/"service":"([a-z-]+)"/g)].map((match) => match[1])),
    );
    expect([...services]).toEqual(expect.arrayContaining(['order', 'payment', 'warehouse', 'logistics', 'saga']));
    expect(logs.reduce((lines, { text }) => lines + text.split('\n').length, 0)).toBeGreaterThan(100);
    // Authenticated requests were logged: the request log lines carry the redacted Authorization header.
    expect(logs.some(({ text }) => text.includes('"authorization":"[redacted]"'))).toBe(true);
    expect(issued.some((secret) => secret.startsWith('ofk_'))).toBe(true);
    expect(issued.some((secret) => secret.startsWith('whsec_'))).toBe(true);
  });

  it('contain none of the credentials the run was configured with or issued', () => {
    const secrets = [...configuredSecrets(), ...issued];
    expect(secrets.length).toBeGreaterThan(10);
    const leaks = logs.flatMap(({ file, text }) =>
      secrets.filter((secret) => text.includes(secret)).map((secret) => `${file}: ${secret.slice(0, 8)}…`),
    );
    expect(leaks).toEqual([]);
  });

  it('contain nothing shaped like an orderflow API key or webhook secret', () => {
    const leaks = logs.flatMap(({ file, text }) =>
      CREDENTIAL_SHAPES.filter((shape) => shape.test(text)).map((shape) => `${file}: ${String(shape)}`),
    );
    expect(leaks).toEqual([]);
  });
});
