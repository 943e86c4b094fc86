/**
 * Webhooks from third parties (payment gateway, carrier) carry no bearer credential: they are signed by the
 * Standard Webhooks scheme (HMAC-SHA256 over `id.timestamp.body` with a shared `whsec_` secret), and verified here
 * with the specification's own library before the controller sees the body. A timestamp more than five minutes
 * off is refused, so a captured request cannot be replayed later. Several secrets (comma-separated) are accepted
 * during a rotation.
 */
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  type Type,
  UnauthorizedException,
  mixin,
} from '@nestjs/common';
import type { Request } from 'express';
import { Webhook } from 'standardwebhooks';
import { SERVICE_CONFIG } from '../platform.tokens.js';

type RawBodyRequest = Request & { rawBody?: Buffer };

/** A guard verifying the Standard Webhooks signature with the secret(s) in configuration variable `secretVariable`. */
export function StandardWebhookSignature(secretVariable: string): Type<CanActivate> {
  class StandardWebhookSignatureGuard implements CanActivate {
    private readonly verifiers: Webhook[];

    constructor(@Inject(SERVICE_CONFIG) config: Record<string, unknown>) {
      const configured = config[secretVariable];
      const secrets = (typeof configured === 'string' ? configured : '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (secrets.length === 0) throw new Error(`${secretVariable} is not configured`);
      this.verifiers = secrets.map((secret) => new Webhook(secret));
    }

    canActivate(context: ExecutionContext): boolean {
      const req = context.switchToHttp().getRequest<RawBodyRequest>();
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      const body = req.rawBody ?? Buffer.alloc(0);
      for (const verifier of this.verifiers) {
        try {
          verifier.verify(body, headers, { jsonParse: false });
          return true;
        } catch {
          // Tried with the next secret; if none verifies, one answer for every reason.
        }
      }
      throw new UnauthorizedException('The webhook signature does not verify');
    }
  }
  return mixin(StandardWebhookSignatureGuard);
}

/** A `whsec_` secret: what the config schemas of services that receive signed webhooks accept. */
export const STANDARD_WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{32,}={0,2}(,whsec_[A-Za-z0-9+/]{32,}={0,2})*$/;
