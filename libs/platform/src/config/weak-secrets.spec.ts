import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { weakSecretReason } from './weak-secrets.js';

const SECRETS_SH = fileURLToPath(new URL('../../../../deploy/k8s/secrets.sh', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'weak-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const WEAK = [
  'change-me-to-an-operator-token-of-at-least-32-chars',
  'CHANGE_ME_PLEASE_0123456789abcdef0123456789',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  '0'.repeat(48),
  'password',
  'whsec_secret',
  Buffer.alloc(32, 1).toString('base64'),
  `whsec_${Buffer.alloc(32, 0xff).toString('base64')}`,
];
const STRONG = [
  randomBytes(24).toString('hex'),
  randomBytes(32).toString('base64'),
  `whsec_${randomBytes(32).toString('base64')}`,
  'correct-horse-battery-staple-9f8e7d',
];

/** What secrets.sh says about OPERATOR_TOKENS set to this value (it checks every value before anything else). */
function secretsShSays(value: string): string {
  const file = join(scratch, `${randomBytes(4).toString('hex')}.env`);
  writeFileSync(file, `OPERATOR_TOKENS=${value}\n`);
  const result = spawnSync('bash', [SECRETS_SH, file], { encoding: 'utf8' });
  return result.stderr;
}

describe('weakSecretReason', () => {
  it.each(WEAK.map((v) => [v]))('refuses %s', (value) => {
    expect(weakSecretReason(value)).toMatch(/generate a random one$/);
  });

  it.each(STRONG.map((v) => [v]))('accepts %s', (value) => {
    expect(weakSecretReason(value)).toBeUndefined();
  });

  it('never quotes the value it refuses', () => {
    for (const value of WEAK) expect(weakSecretReason(value)).not.toContain(value);
  });
});

describe('secrets.sh', () => {
  it('refuses exactly what the services refuse, naming the variable and not the value', () => {
    for (const value of [...WEAK, ...STRONG]) {
      const said = secretsShSays(value);
      const reason = weakSecretReason(value);
      if (reason) expect(said, value).toContain(`OPERATOR_TOKENS ${reason}`);
      else expect(said, value).not.toContain('OPERATOR_TOKENS');
      expect(said).not.toContain(value);
    }
  });

  it('checks each token of a comma-separated list', () => {
    expect(secretsShSays(`${randomBytes(24).toString('hex')},change-me-too-0123456789abcdef`)).toContain(
      'OPERATOR_TOKENS is an example value',
    );
  });
});
