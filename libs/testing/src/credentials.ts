/**
 * Credentials for tests that call the services over HTTP: the test profile's operator token, and merchants each
 * test creates for itself through the real API. Every credential issued during a run is written down (in the test
 * state folder, mode 600), so the log audit at the end of `npm test` can prove no log line carries one.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export function operatorToken(): string {
  const token = process.env.ORDERFLOW_OPERATOR_TOKEN;
  if (!token) throw new Error('ORDERFLOW_OPERATOR_TOKEN is not set: e2e tests run through npm test');
  return token;
}

export function bearer(credential: string): { authorization: string } {
  return { authorization: `Bearer ${credential}` };
}

/** `Authorization` with the operator token, for the operator endpoints of any service. */
export const asOperator = () => bearer(operatorToken());

/** Where the credentials issued during this run are written, for tests/audit. */
export function issuedSecretsFile(): string | undefined {
  const state = process.env.ORDERFLOW_TEST_STATE_DIR;
  return state && join(state, 'issued-secrets.txt');
}

export function recordIssuedSecret(secret: string): void {
  const file = issuedSecretsFile();
  if (file) appendFileSync(file, `${secret}\n`, { mode: 0o600 });
}

export interface TestMerchant {
  merchantId: string;
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** A new merchant, made through POST /merchants of a running order service. */
export async function createMerchant(orderServiceUrl: string, name = 'Test merchant'): Promise<TestMerchant> {
  const res = await fetch(`${orderServiceUrl}/merchants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...asOperator() },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`POST /merchants answered ${res.status}: ${await res.text()}`);
  const merchant = (await res.json()) as TestMerchant;
  recordIssuedSecret(merchant.apiKey);
  recordIssuedSecret(merchant.webhookSecret);
  return merchant;
}
