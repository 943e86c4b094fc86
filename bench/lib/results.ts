/**
 * bench/RESULTS.md: one file, newest section last. A benchmark appends its run's section, and its method section
 * ("## <name>: how the figures are measured") the first time it writes, so each figure's definition sits in the file
 * that holds it. The file is formatted as `npm run lint` expects (Prettier aligns the tables).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as prettier from 'prettier';

export const RESULTS_HEADER = `# Benchmark results

Appended by \`npm run bench -- <name>\`; newest last. Compare figures within one section (one run, one machine
state): the machines are noisy, so absolute figures move between runs.
`;

export async function appendResults(path: string, section: string, method: string): Promise<void> {
  let text = existsSync(path) ? readFileSync(path, 'utf8') : RESULTS_HEADER;
  const methodHeading = method.trimStart().split('\n')[0];
  if (!text.split('\n').includes(methodHeading)) text = `${text.trimEnd()}\n\n${method.trim()}\n`;
  text = `${text.trimEnd()}\n\n${section}`;
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(text, { ...options, filepath: path }));
}
