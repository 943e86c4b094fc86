/**
 * Every line a process started by a test writes is also appended to a file of the run (under the test state
 * folder), so that checks across the whole run — such as the audit that no secret was ever logged — read it all.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function capturedLogsDir(): string | undefined {
  const state = process.env.ORDERFLOW_TEST_STATE_DIR;
  return state && join(state, 'captured-logs');
}

export class CapturedLog {
  private readonly file?: string;

  constructor(name: string) {
    const dir = capturedLogsDir();
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.log`);
  }

  append(text: string): void {
    if (this.file) appendFileSync(this.file, text.endsWith('\n') ? text : `${text}\n`);
  }
}
