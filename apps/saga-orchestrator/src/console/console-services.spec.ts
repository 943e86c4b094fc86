import { ConfigurationError } from '@orderflow/platform';
import { describe, expect, it } from 'vitest';
import { consoleServicesFrom, consoleServiceUrls } from './console-services.js';

const fromEnv = (value: string | undefined) => consoleServicesFrom({}, { CONSOLE_SERVICE_URLS: value });

function problemsOf(value: string) {
  try {
    fromEnv(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return (err as ConfigurationError).problems;
  }
  throw new Error('expected a ConfigurationError');
}

describe('CONSOLE_SERVICE_URLS', () => {
  it('names each service and its base URL, without a trailing slash', () => {
    expect(
      fromEnv('order=http://127.0.0.1:3000, payment=https://payment.internal/api/ ,saga=http://saga:3004'),
    ).toEqual([
      { name: 'order', baseUrl: 'http://127.0.0.1:3000' },
      { name: 'payment', baseUrl: 'https://payment.internal/api' },
      { name: 'saga', baseUrl: 'http://saga:3004' },
    ]);
  });

  it('unset or empty, configures no service', () => {
    expect(fromEnv(undefined)).toEqual([]);
    expect(fromEnv('')).toEqual([]);
  });

  it.each([
    ['an unknown service', 'billing=http://billing:3000'],
    ['a missing URL', 'order='],
    ['no name', 'http://order:3000'],
    ['another scheme', 'order=ftp://order:21'],
    ['credentials in the URL', 'order=http://user:secret@order:3000'],
    ['a query', 'order=http://order:3000/?x=1'],
    ['a service named twice', 'order=http://a:3000,order=http://b:3000'],
    ['only commas', ',,'],
  ])('refuses %s, naming the variable and never its value', (_what, value) => {
    const problems = problemsOf(value);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(problem.variable).toBe('CONSOLE_SERVICE_URLS');
      expect(problem.message).not.toContain('secret');
    }
  });

  it('is taken from the validated configuration when that carries it already', () => {
    const parsed = consoleServiceUrls.parse('warehouse=http://warehouse:3002');
    expect(consoleServicesFrom({ CONSOLE_SERVICE_URLS: parsed }, { CONSOLE_SERVICE_URLS: 'order=http://x' })).toEqual([
      { name: 'warehouse', baseUrl: 'http://warehouse:3002' },
    ]);
    expect(
      consoleServicesFrom({ CONSOLE_SERVICE_URLS: undefined }, { CONSOLE_SERVICE_URLS: 'order=http://x' }),
    ).toEqual([]);
  });
});
