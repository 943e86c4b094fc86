// The order service's feature folders depend on each other one way, so that each can be read and changed without the
// ones that follow it: orders knows nothing of notifications, notifications follows orders (OrderStatusChanges) and
// reaches merchants only through the port it owns (WebhookSigningSecrets), and the callback-URL rule is a folder of
// its own that orders and notifications both apply. NestJS module imports need the code import, so they are held to
// the same direction here; forwardRef, which would hide a cycle, is refused outright.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** What each feature folder may import from the others: a whole folder, or one file of it (a port). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'callback-urls': [],
  orders: ['callback-urls'],
  notifications: ['orders', 'callback-urls'],
  merchants: ['notifications/webhook-signing-secrets.ts'],
};

/** The files beside the features that a feature may import: the service's one configuration. */
const SHARED = ['config.ts'];

/** Folders of src that are no feature: the database's history. */
const NOT_FEATURES = ['migrations'];

interface SourceFile {
  /** Relative to src, with `/`. */
  path: string;
  text: string;
}

/** Each import of a feature that goes the wrong way, as `from → to` (paths relative to src). */
function wrongWayImports(files: readonly SourceFile[]): string[] {
  const wrong: string[] = [];
  for (const file of files) {
    const [feature] = file.path.split('/');
    if (!file.path.includes('/') || NOT_FEATURES.includes(feature)) continue;
    for (const { fileName } of ts.preProcessFile(file.text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = posix.join(posix.dirname(file.path), fileName).replace(/\.js$/, '.ts');
      const [targetFeature] = target.split('/');
      const allowed =
        targetFeature === feature ||
        SHARED.includes(target) ||
        (MAY_IMPORT[feature] ?? []).some((dependency) => target === dependency || targetFeature === dependency);
      if (!allowed) wrong.push(`${file.path} → ${target}`);
    }
  }
  return wrong;
}

const src = import.meta.dirname;

function sourceFiles(dir: string): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    if (!entry.name.endsWith('.ts')) return [];
    return [{ path: relative(src, full).split(sep).join('/'), text: readFileSync(full, 'utf8') }];
  });
}

describe('order-service feature folders', () => {
  const files = sourceFiles(src);

  it('each has its dependencies declared here', () => {
    const folders = readdirSync(src, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !NOT_FEATURES.includes(entry.name))
      .map((entry) => entry.name);
    expect(folders.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it('import each other one way only', () => {
    expect(files.filter((f) => dirname(f.path) !== '.').length).toBeGreaterThan(20);
    expect(wrongWayImports(files)).toEqual([]);
  });

  it('do not use forwardRef', () => {
    expect(
      files.filter((f) => /\bforwardRef\b/.test(f.text) && !f.path.endsWith('.spec.ts')).map((f) => f.path),
    ).toEqual([]);
  });

  it('name an import that goes the wrong way, from a file at any depth', () => {
    expect(
      wrongWayImports([
        { path: 'orders/dto/order.response.ts', text: "import { x } from '../../notifications/notification.js';" },
        {
          path: 'merchants/merchants.service.ts',
          text: "export { y } from '../notifications/notifications.service.js';",
        },
        { path: 'notifications/notification.ts', text: "import type { Order } from '../orders/order.js';" },
        {
          path: 'merchants/merchants.module.ts',
          text: "import { P } from '../notifications/webhook-signing-secrets.js';",
        },
        { path: 'orders/orders.module.ts', text: "const m = await import('../merchants/merchants.module.js');" },
      ]),
    ).toEqual([
      'orders/dto/order.response.ts → notifications/notification.ts',
      'merchants/merchants.service.ts → notifications/notifications.service.ts',
      'orders/orders.module.ts → merchants/merchants.module.ts',
    ]);
  });
});
