import { describe, expect, it } from 'vitest';
import { baseConfigSchema, ConfigurationError, loadConfig } from './service-config.js';

const schema = baseConfigSchema({ port: 3001 });
const OPERATOR_TOKEN = 'op_0123456789abcdefghijklmnopqrstuvwxyz';
const valid = {
  DATABASE_URL: 'postgresql://orderflow_payment:s3cret@db:5432/orderflow_payment',
  AMQP_URL: 'amqp://payment:s3cret@mq:5672/orderflow',
  OPERATOR_TOKENS: OPERATOR_TOKEN,
};

function without(name: keyof typeof valid): Record<string, string> {
  return Object.fromEntries(Object.entries(valid).filter(([variable]) => variable !== name));
}

function errorOf(env: Record<string, string>): ConfigurationError {
  try {
    loadConfig(schema, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return err as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

const problemsOf = (env: Record<string, string>) => errorOf(env).problems;

describe('loadConfig', () => {
  it('applies defaults to a minimal environment', () => {
    const config = loadConfig(schema, valid);
    expect(config).toMatchObject({
      PORT: 3001,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
    expect(config.DATABASE_MIGRATIONS_RUN).toBeUndefined();
  });

  it('reads and coerces overrides', () => {
    const config = loadConfig(schema, { ...valid, PORT: '8080', DATABASE_MIGRATIONS_RUN: 'false', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ PORT: 8080, DATABASE_MIGRATIONS_RUN: false, LOG_LEVEL: 'debug' });
  });

  it('names every missing variable', () => {
    expect(problemsOf({})).toEqual([
      { variable: 'DATABASE_URL', message: 'is required' },
      { variable: 'AMQP_URL', message: 'is required' },
      { variable: 'OPERATOR_TOKENS', message: 'is required unless OIDC_ISSUER is set' },
    ]);
  });

  it('treats an empty variable as unset', () => {
    expect(problemsOf({ ...valid, AMQP_URL: '' })).toEqual([{ variable: 'AMQP_URL', message: 'is required' }]);
  });

  it('names malformed variables without echoing their values', () => {
    const problems = problemsOf({
      ...valid,
      DATABASE_URL: 'mysql://root:hunter2@db/x',
      PORT: '70000',
      LOG_LEVEL: 'loud',
    });
    expect(problems.map((p) => p.variable)).toEqual(['PORT', 'DATABASE_URL', 'LOG_LEVEL']);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it("takes the build's commit for orderflow_build_info: a git commit id, or nothing (an image built without one)", () => {
    const commit = '0123456789abcdef0123456789abcdef01234567';
    expect(loadConfig(schema, { ...valid, ORDERFLOW_COMMIT: commit }).ORDERFLOW_COMMIT).toBe(commit);
    expect(loadConfig(schema, { ...valid, ORDERFLOW_COMMIT: '' }).ORDERFLOW_COMMIT).toBeUndefined();
    expect(problemsOf({ ...valid, ORDERFLOW_COMMIT: 'main' }).map((p) => p.variable)).toEqual(['ORDERFLOW_COMMIT']);
  });

  describe('AMQP_URL', () => {
    it('takes one URL, or one per cluster node, comma-separated', () => {
      expect(loadConfig(schema, valid).AMQP_URL).toEqual(['amqp://payment:s3cret@mq:5672/orderflow']);
      const cluster = 'amqp://payment:s3cret@mq-0:5672/orderflow, amqps://payment:s3cret@mq-1/orderflow,';
      expect(loadConfig(schema, { ...valid, AMQP_URL: cluster }).AMQP_URL).toEqual([
        'amqp://payment:s3cret@mq-0:5672/orderflow',
        'amqps://payment:s3cret@mq-1/orderflow',
      ]);
    });

    it('names the bad entry by its position, never its text', () => {
      const problems = problemsOf({
        ...valid,
        AMQP_URL: 'amqp://payment:hunter2@mq-0/orderflow,http://payment:hunter2@mq-1/orderflow',
      });
      expect(problems).toEqual([
        { variable: 'AMQP_URL', message: 'expected an amqp:// or amqps:// URL (entry 2 of 2)' },
      ]);
      expect(JSON.stringify(problems)).not.toContain('hunter2');
      expect(problemsOf({ ...valid, AMQP_URL: ' , ' })).toEqual([
        { variable: 'AMQP_URL', message: 'expected at least one amqp:// URL' },
      ]);
    });
  });

  it('names every problem at once, those of the rules across variables with those of the schema', () => {
    expect(problemsOf({ ...without('OPERATOR_TOKENS'), PORT: 'eighty' })).toEqual([
      { variable: 'PORT', message: expect.any(String) as string },
      { variable: 'OPERATOR_TOKENS', message: 'is required unless OIDC_ISSUER is set' },
    ]);
    expect(problemsOf({ ...valid, PORT: '0', OIDC_ISSUER: 'http://idp.example.com' })).toEqual([
      { variable: 'PORT', message: expect.any(String) as string },
      { variable: 'OIDC_AUDIENCE', message: 'is required with OIDC_ISSUER' },
      {
        variable: 'OIDC_ISSUER',
        message: 'must be an https URL (http only for a loopback issuer, and never in production)',
      },
    ]);
  });

  describe('operator credentials', () => {
    it('requires OPERATOR_TOKENS or OIDC_ISSUER', () => {
      expect(problemsOf(without('OPERATOR_TOKENS'))).toEqual([
        { variable: 'OPERATOR_TOKENS', message: 'is required unless OIDC_ISSUER is set' },
      ]);
      expect(problemsOf({ ...valid, OPERATOR_TOKENS: '' })).toEqual([
        { variable: 'OPERATOR_TOKENS', message: 'is required unless OIDC_ISSUER is set' },
      ]);
    });

    it('takes an OIDC issuer instead of tokens, but only with its audience', () => {
      const issuer = { OIDC_ISSUER: 'https://login.example/realms/orderflow' };
      expect(problemsOf({ ...without('OPERATOR_TOKENS'), ...issuer })).toEqual([
        { variable: 'OIDC_AUDIENCE', message: 'is required with OIDC_ISSUER' },
      ]);
      const config = loadConfig(schema, { ...without('OPERATOR_TOKENS'), ...issuer, OIDC_AUDIENCE: 'orderflow' });
      expect(config).toMatchObject({ ...issuer, OIDC_AUDIENCE: 'orderflow' });
      expect(config.OPERATOR_TOKENS).toBeUndefined();
    });

    it('refuses a token shorter than 32 characters, naming the variable but never a token', () => {
      const short = 'tooShortToken-9f3a';
      const error = errorOf({ ...valid, OPERATOR_TOKENS: `${OPERATOR_TOKEN},${short}` });
      expect(error.problems.map((p) => p.variable)).toEqual([expect.stringMatching(/^OPERATOR_TOKENS\b/)]);
      for (const text of [error.message, JSON.stringify(error.problems)]) {
        expect(text).toContain('OPERATOR_TOKENS');
        expect(text).not.toContain(short);
        expect(text).not.toContain(OPERATOR_TOKEN);
      }
    });

    it('refuses a token with spaces or other invisible characters', () => {
      const spaced = 'op 0123456789abcdefghijklmnopqrstuvwxyz';
      const problems = problemsOf({ ...valid, OPERATOR_TOKENS: spaced });
      expect(problems.map((p) => p.variable)).toEqual([expect.stringMatching(/^OPERATOR_TOKENS\b/)]);
      expect(JSON.stringify(problems)).not.toContain(spaced);
    });

    it('reads a comma-separated list, so a new token can be added before the old one is removed', () => {
      const next = 'op_zyxwvutsrqponmlkjihgfedcba9876543210';
      const config = loadConfig(schema, { ...valid, OPERATOR_TOKENS: ` ${OPERATOR_TOKEN} ,${next},` });
      expect(config.OPERATOR_TOKENS).toEqual([OPERATOR_TOKEN, next]);
    });
  });
});

describe('loadConfig, given a secret that is not secret', () => {
  it('refuses an example or repeated operator token, naming the variable and not the value', () => {
    for (const token of ['change-me-to-an-operator-token-of-at-least-32-chars', 'A'.repeat(40)]) {
      const error = errorOf({ ...valid, OPERATOR_TOKENS: `${OPERATOR_TOKEN},${token}` });
      expect(error.problems.map((p) => p.variable)).toEqual(['OPERATOR_TOKENS']);
      expect(error.problems[0].message).toMatch(/generate a random one \(entry 2 of 2\)$/);
      expect(error.message).not.toContain(token);
    }
  });

  it('refuses a connection URL whose password is an example value', () => {
    const [problem] = problemsOf({
      ...valid,
      DATABASE_URL: 'postgresql://orderflow_payment:change-me-payment-db@db/orderflow_payment',
    });
    expect(problem.variable).toBe('DATABASE_URL');
    expect(problem.message).toMatch(/^its password is an example value/);
    expect(problemsOf({ ...valid, AMQP_URL: 'amqp://payment:xxxxxxxxxxxx@mq/orderflow' })).toEqual([
      { variable: 'AMQP_URL', message: 'its password repeats one character: generate a random one' },
    ]);
  });
});

describe('loadConfig, given an OIDC issuer', () => {
  const oidc = (issuer: string, nodeEnv = 'development') => ({
    ...valid,
    NODE_ENV: nodeEnv,
    OIDC_ISSUER: issuer,
    OIDC_AUDIENCE: 'orderflow',
  });

  it('takes an https issuer, with the role claim and value defaulted', () => {
    expect(loadConfig(schema, oidc('https://id.example.com/realms/shop'))).toMatchObject({
      OIDC_ROLE_CLAIM: 'roles',
      OIDC_OPERATOR_ROLE: 'orderflow-operator',
    });
  });

  it('refuses an http issuer, but for a loopback one outside production', () => {
    expect(problemsOf(oidc('http://id.example.com')).map((p) => p.variable)).toEqual(['OIDC_ISSUER']);
    expect(loadConfig(schema, oidc('http://127.0.0.1:8080')).OIDC_ISSUER).toBe('http://127.0.0.1:8080');
    expect(problemsOf(oidc('http://127.0.0.1:8080', 'production')).map((p) => p.variable)).toEqual(['OIDC_ISSUER']);
  });
});
