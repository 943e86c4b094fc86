/**
 * A headless browser for end-to-end tests of the pages the services serve: Debian's chromium (`npm test` installs
 * it when missing, scripts/lib/browser.sh), driven by playwright-core, which brings no browser of its own.
 * playwright-core is loaded on first use, so tests without a browser do not pay for it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: npm test installs it (apt-get install -y chromium)`);
  }
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
}

/** Where a test leaves files for people to look at (screenshots): the test profile's state folder. */
export function testArtifactPath(file: string): string {
  return join(process.env.ORDERFLOW_TEST_STATE_DIR ?? '.orderflow/test', file);
}
