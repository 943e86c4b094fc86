/**
 * Seals secrets that orderflow must be able to use again — merchants' webhook signing secrets in the order service's
 * database, payment tokens on their way from the order service to the payment service — so that no copy (a backup, a
 * replica, a leaked dump, a message kept in an outbox, a queue or a dead-letter queue) carries them in the clear.
 * AES-256-GCM with a fresh IV per secret; what the secret belongs to (a row's id, an order's id) is bound in as
 * additional data, so a sealed value copied onto something else does not open.
 *
 * Sealed form: `v1.<key fingerprint>.<iv>.<tag>.<ciphertext>` (base64url). The fingerprint names the key that sealed
 * it, so opening with the wrong key says so instead of failing as if the data were corrupt.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export class SecretBoxKeyMismatch extends Error {
  constructor(fingerprint: string) {
    super(`sealed with key ${fingerprint}, which is not the configured key`);
  }
}

export class SecretBox {
  private readonly key: Buffer;
  readonly fingerprint: string;

  constructor(base64Key: string) {
    this.key = Buffer.from(base64Key, 'base64');
    if (this.key.length !== 32) throw new Error('the encryption key must be 32 bytes');
    this.fingerprint = createHash('sha256').update(this.key).digest('hex').slice(0, 8);
  }

  seal(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.fingerprint, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Whether a value has the sealed form (not whether it opens). */
  static isSealed(value: string): boolean {
    return /^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
  }

  open(sealed: string, boundTo: string): string {
    const [version, fingerprint, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed secret');
    if (fingerprint !== this.fingerprint) throw new SecretBoxKeyMismatch(fingerprint);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
