/**
 * Refuses secrets that are not secret: the example values this repository ships (`change-me…`, all-zero keys,
 * `whsec_AAAA…`), one byte or character repeated, and well-known placeholders. A deployment that copied
 * `deploy/k8s/secrets.example.env` and forgot a line would otherwise run with a key anyone can read on GitHub.
 *
 * The same rules are written in shell in `deploy/k8s/secrets.sh` (which refuses to make Secrets from such values);
 * `weak-secrets.spec.ts` runs both on the same cases, so they cannot drift apart.
 */

/** Values people leave in place: compared case-insensitively with the whole value, its `whsec_` prefix stripped. */
export const PLACEHOLDER_SECRETS: readonly string[] = [
  'changeme',
  'changeit',
  'password',
  'passw0rd',
  'secret',
  'example',
  'placeholder',
  'default',
  'admin',
  'guest',
  'letmein',
  'test',
  'todo',
  'xxx',
];

/** Why this value may not be used as a secret, or undefined when nothing is wrong with it. Never quotes the value. */
export function weakSecretReason(value: string): string | undefined {
  if (/change[-_ ]?me/i.test(value)) return 'is an example value (change-me…): generate a random one';
  const body = value.replace(/^whsec_/, '');
  if (PLACEHOLDER_SECRETS.includes(body.toLowerCase())) return 'is a well-known placeholder: generate a random one';
  const characters = body.replace(/=+$/, '');
  if (characters.length > 0 && new Set(characters).size === 1) {
    return 'repeats one character: generate a random one';
  }
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length >= 8 ? Buffer.from(body, 'base64') : undefined;
  if (bytes && bytes.length > 1 && bytes.every((b) => b === bytes[0])) {
    return 'is one byte repeated (such as an all-zero key): generate a random one';
  }
  return undefined;
}

/** Where a refinement reports a problem: zod's refinement context, or anything with the same `addIssue`. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; message: string }): void;
}

/** A zod `superRefine` for a secret, or a comma-separated list of them: each one checked. */
export function refuseWeakSecrets(value: string | readonly string[], ctx: IssueSink): void {
  const values = typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value;
  for (const secret of values) {
    const reason = weakSecretReason(secret);
    if (reason) {
      const which = values.length > 1 ? ` (entry ${values.indexOf(secret) + 1} of ${values.length})` : '';
      ctx.addIssue({ code: 'custom', message: `${reason}${which}` });
      return;
    }
  }
}

/** The password of a connection URL, refused if weak (the URL's variable is named, its value never). */
export function refuseWeakUrlPassword(url: string, ctx: IssueSink): void {
  const parsed = URL.parse(url);
  if (!parsed?.password) return;
  const reason = weakSecretReason(decodeURIComponent(parsed.password));
  if (reason) ctx.addIssue({ code: 'custom', message: `its password ${reason}` });
}
