/** What a result stands on, for its section's Command and Machine lines: the machine, the versions, the commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RESULTS_FILE = `${ROOT}bench/RESULTS.md`;

/** The machine line; `busyBefore` is the cores other work used just before the benchmark started. */
export function machineLine(loadBefore: number, busyBefore: number): string {
  return (
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; ` +
    `before the benchmark: load average ${loadBefore.toFixed(2)}, ${busyBefore} cores busy with other work`
  );
}

export function packageVersion(name: string, root = ROOT): string {
  const pkg = JSON.parse(readFileSync(`${root}/node_modules/${name}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

/** The commit measured in `root`, and whether `paths` differed from it in that working tree. */
export function gitCommit(root: string, paths: readonly string[]): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    // RESULTS.md is what a run writes: an earlier run's section is not a change to what is measured.
    const changed = execFileSync('git', ['status', '--porcelain', '--', ...paths, ':(exclude)bench/RESULTS.md'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    return changed ? `${head} (${paths.join(', ')} modified in the working tree)` : head;
  } catch {
    return 'unknown';
  }
}

export function env(name: string, benchmark: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the benchmark with 'npm run bench -- ${benchmark}'`);
  return value;
}
