import { describe, expect, it } from 'vitest';
import { baseConfigSchema, ConfigurationError, loadConfig } from './service-config.js';

const schema = baseConfigSchema({ port: 3001 });
const valid = {
  DATABASE_URL: 'postgresql://orderflow_payment:s3cret@db:5432/orderflow_payment',
  AMQP_URL: 'amqp://payment:s3cret@mq:5672/orderflow',
};

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(schema, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return (err as ConfigurationError).problems;
  }
  throw new Error('expected a ConfigurationError');
}

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
});
