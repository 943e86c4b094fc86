import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ORDERFLOW_VERSION } from './version.js';

describe('ORDERFLOW_VERSION', () => {
  it('is the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(ORDERFLOW_VERSION).toBe(pkg.version);
  });
});
