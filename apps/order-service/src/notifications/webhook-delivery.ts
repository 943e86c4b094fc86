/**
 * Makes one signed delivery attempt of a notification to a merchant's callback URL and reports how it went; retrying
 * is the scheduler's job. Guarantees, for every attempt:
 * - it is signed per Standard Webhooks v1 with every active secret, so a receiver mid-rotation verifies either one;
 * - it never connects to an address the callback-URL policy refuses: IP literals are checked before the request,
 *   host names at connect time on the very addresses the socket will use, which closes DNS rebinding (a name that
 *   passed at placement and later resolves inside);
 * - it ends within `timeoutMs` however the receiver behaves: the whole attempt runs under one deadline, because
 *   undici's own timeouts are per phase and a body trickled a byte at a time never trips the idle body timeout;
 * - it holds at most `maxResponseBytes` of the response, then drops the connection instead of reading on;
 * - it follows no redirect, since a redirect could lead anywhere, the inside included.
 *
 * Hand-written on undici: no library we found combines signed delivery with connect-time address checks.
 *
 * Every network or receiver outcome is a DeliveryResult; `deliver` rejects only for a caller's mistake (no secret, or
 * a malformed one), which no retry would fix. Operator-facing errors carry at most a short sanitised excerpt of the
 * response and never a secret or a signature.
 */
import { type LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Readable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import {
  addressRefusal,
  checkCallbackUrl,
  type CallbackUrlPolicy,
  type LookupAll,
} from '../callback-urls/callback-url.js';

export interface DeliveryRequest {
  url: string;
  /** The notification's id; the same on every attempt, so the receiver can deduplicate. */
  webhookId: string;
  /** Sent byte for byte as signed. */
  body: string;
  /** The merchant's active `whsec_…` secrets. */
  secrets: string[];
  /** When this attempt is signed; becomes `webhook-timestamp`. */
  at: Date;
}

export type DeliveryResult = { acknowledged: boolean; statusCode?: number; latencyMs: number; error?: string };

export interface DeliveryOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  /** When set, a 2xx acknowledges only with exactly this body (e.g. 'success'). */
  acknowledgementBody?: string;
  allowPrivateNetworks: boolean;
  userAgent: string;
  /** Resolves every address of a host; `dns.promises.lookup` unless a test injects one. */
  lookup?: LookupAll;
}

const EXCERPT_CHARS = 200;

/** Raised inside the connect-time lookup, so the socket is never opened. */
class AddressRefused extends Error {
  readonly code = 'ERR_CALLBACK_ADDRESS_REFUSED';
}

export class WebhookDelivery {
  private readonly agent: Agent;
  private readonly policy: CallbackUrlPolicy;
  private readonly lookup: LookupAll;

  constructor(private readonly options: DeliveryOptions) {
    this.policy = { allowPrivateNetworks: options.allowPrivateNetworks };
    this.lookup = options.lookup ?? dnsLookup;
    this.agent = new Agent({
      connect: { lookup: this.guardedLookup, timeout: options.timeoutMs },
      // Backstops only: the per-attempt deadline in deliver() is what bounds a trickled body.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const headers = this.headersFor(req);
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);

    // net.connect skips the lookup for an IP literal, so a literal is judged here, on every attempt.
    const checked = checkCallbackUrl(req.url, this.policy);
    if (!checked.ok) return { acknowledged: false, latencyMs: elapsed(), error: checked.reason };
    const url = checked.url;

    const redact = secretsAndSignatures(req.secrets, headers['webhook-signature']);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let statusCode: number | undefined;
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body: req.body,
        signal,
      });
      statusCode = response.statusCode;

      const { bytes, truncated } = await readAtMost(response.body, this.options.maxResponseBytes);
      if (statusCode >= 300 && statusCode < 400) {
        const location = response.headers.location;
        const to = typeof location === 'string' ? ` to ${excerpt(location, redact)}` : '';
        return fail(`redirects are not followed (HTTP ${statusCode}${to})`);
      }

      const text = () => excerpt(bytes.toString('utf8') + (truncated ? '…' : ''), redact);
      if (statusCode < 200 || statusCode >= 300) {
        const shown = text();
        return fail(shown === '' ? `HTTP ${statusCode}` : `HTTP ${statusCode}: ${shown}`);
      }
      const expected = this.options.acknowledgementBody;
      if (expected !== undefined && (truncated || !bytes.equals(Buffer.from(expected, 'utf8')))) {
        return fail(`HTTP ${statusCode} without the acknowledgement body "${expected}" (got "${text()}")`);
      }
      return { acknowledged: true, statusCode, latencyMs: elapsed() };
    } catch (err) {
      return fail(signal.aborted ? this.timedOut() : this.describe(err, redact));
    }

    function fail(error: string): DeliveryResult {
      return { acknowledged: false, ...(statusCode === undefined ? {} : { statusCode }), latencyMs: elapsed(), error };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private headersFor(req: DeliveryRequest): Record<string, string> {
    if (req.secrets.length === 0) throw new Error('a notification is never delivered unsigned: no secret given');
    return {
      'content-type': 'application/json',
      'user-agent': this.options.userAgent,
      'webhook-id': req.webhookId,
      'webhook-timestamp': String(Math.floor(req.at.getTime() / 1000)),
      'webhook-signature': req.secrets
        .map((secret) => new Webhook(secret).sign(req.webhookId, req.at, req.body))
        .join(' '),
    };
  }

  // Called by net.connect (for http and https alike) with the host name; resolving and checking here means the
  // addresses judged are the ones connected to. Every address must pass, as resolveCallbackHost demands.
  private readonly guardedLookup: LookupFunction = (hostname, options, callback) => {
    this.lookup(hostname, { all: true }).then(
      (addresses) => {
        if (addresses.length === 0) {
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        }
        for (const { address } of addresses) {
          const refusal = addressRefusal(address, this.policy);
          if (refusal !== undefined) return callback(new AddressRefused(refusal), '');
        }
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable: LookupAddress[] = family ? addresses.filter((a) => a.family === family) : addresses;
        if (options.all) return callback(null, usable);
        const first = usable[0];
        if (first === undefined) {
          return callback(
            Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }),
            '',
          );
        }
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };

  private timedOut(): string {
    return `timed out after ${this.options.timeoutMs} ms`;
  }

  private describe(err: unknown, redact: string[]): string {
    if (err instanceof AddressRefused) return err.message;
    const code = errorCode(err);
    switch (code) {
      case 'ECONNREFUSED':
        return 'connection refused';
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
        return 'connection closed by the receiver';
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_NODATA':
      case 'EAI_NONAME':
        return 'host does not resolve';
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return 'host unreachable';
      case 'ETIMEDOUT':
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return this.timedOut();
    }
    // TLS failures and the rare rest: node's own messages name no secret, but are cut to size all the same.
    const message = err instanceof Error ? err.message : String(err);
    return excerpt(code === undefined ? message : `${code}: ${message}`, redact);
  }
}

/** Reads the body until it ends or passes `max` bytes, keeping at most `max`; stopping early destroys the stream. */
async function readAtMost(body: Readable, max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = max - kept;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      // Leaving the loop destroys the body, which makes undici drop the connection rather than drain the rest.
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    kept += chunk.length;
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

// A connection failure carries its code itself, or (happy eyeballs over several addresses) on each of its errors.
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  const cause = (err as { cause?: unknown }).cause;
  return cause === undefined ? undefined : errorCode(cause);
}

/** Every form in which a secret or signature might come back in a receiver's echo of the request. */
function secretsAndSignatures(secrets: string[], signatureHeader: string | undefined): string[] {
  const values = [
    ...secrets.map((secret) => secret.replace(/^whsec_/, '')),
    ...(signatureHeader ?? '').split(' ').map((signature) => signature.replace(/^v1,/, '')),
  ].filter((value) => value.length > 0);
  // JSON encoders that escape '/' (PHP's) would otherwise slip a base64 value past the plain match.
  return [...values, ...values.map((value) => value.replaceAll('/', '\\/'))];
}

/** Merchant-controlled text made fit for an operator's log line: redacted, printable, one line, at most 200 chars. */
function excerpt(text: string, redact: string[]): string {
  let shown = text;
  for (const value of redact) shown = shown.replaceAll(value, '[redacted]');
  shown = shown
    .replace(/\p{C}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return shown.length > EXCERPT_CHARS ? `${shown.slice(0, EXCERPT_CHARS - 1)}…` : shown;
}
