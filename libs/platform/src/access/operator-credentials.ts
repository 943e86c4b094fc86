/**
 * Operator credentials: static bearer tokens from configuration (a list, so one can be rotated in before the old
 * one goes), and, where configured, JWTs from an OIDC issuer verified against its published keys with `jose`.
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, so neither the comparison's time nor a length
 * check tells a caller how much of a guess was right. A principal names a token by a short fingerprint of its
 * digest, never by the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { BaseConfig } from '../config/service-config.js';
import { SERVICE_CONFIG } from '../platform.tokens.js';
import type { OperatorPrincipal } from './principal.js';

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;
/** Asymmetric algorithms only: a symmetric one would let anyone holding the issuer's public data forge tokens. */
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

@Injectable()
export class OperatorCredentials {
  private readonly logger = new Logger(OperatorCredentials.name);
  private readonly tokenDigests: Buffer[];
  private keys?: Promise<JWTVerifyGetKey>;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: BaseConfig) {
    this.tokenDigests = (config.OPERATOR_TOKENS ?? []).map(sha256);
  }

  async verify(token: string): Promise<OperatorPrincipal | undefined> {
    const digest = sha256(token);
    // Every configured token is compared, matched or not, so the time taken does not say which one matched.
    let matched: Buffer | undefined;
    for (const known of this.tokenDigests) if (timingSafeEqual(known, digest)) matched = known;
    if (matched) return { kind: 'operator', subject: `token:${matched.toString('hex').slice(0, 12)}` };
    if (this.config.OIDC_ISSUER && JWT_SHAPE.test(token)) return this.verifyJwt(token);
    return undefined;
  }

  private async verifyJwt(token: string): Promise<OperatorPrincipal | undefined> {
    try {
      const { payload } = await jwtVerify(token, await this.issuerKeys(), {
        issuer: this.config.OIDC_ISSUER,
        audience: this.config.OIDC_AUDIENCE,
        algorithms: JWT_ALGORITHMS,
        clockTolerance: 30,
        requiredClaims: ['sub', 'exp'],
      });
      if (!holdsRole(payload, this.config.OIDC_ROLE_CLAIM, this.config.OIDC_OPERATOR_ROLE)) {
        // A valid token of someone who is not an operator: the issuer vouches for who, not for what they may do.
        this.logger.warn({
          message: 'operator JWT refused',
          reason: 'no operator role',
          claim: this.config.OIDC_ROLE_CLAIM,
        });
        return undefined;
      }
      return { kind: 'operator', subject: `oidc:${payload.sub}` };
    } catch (err) {
      // The reason (expired, wrong audience, unknown key) helps whoever runs the issuer; the caller learns nothing.
      this.logger.warn({ message: 'operator JWT refused', reason: (err as Error).name });
      return undefined;
    }
  }

  /** The issuer's key set, found through OpenID discovery once; a failed discovery is tried again next time. */
  private issuerKeys(): Promise<JWTVerifyGetKey> {
    this.keys ??= (async () => {
      const issuer = this.config.OIDC_ISSUER!.replace(/\/$/, '');
      const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`OIDC discovery answered ${res.status}`);
      const { jwks_uri: jwksUri, issuer: announced } = (await res.json()) as { jwks_uri?: unknown; issuer?: unknown };
      // OpenID Connect Discovery 1.0, 4.3: the document must name the very issuer it was fetched for.
      if (typeof announced !== 'string' || announced.replace(/\/$/, '') !== issuer) {
        throw new Error('OIDC discovery document names another issuer');
      }
      if (typeof jwksUri !== 'string') throw new Error('OIDC discovery document has no jwks_uri');
      if (new URL(jwksUri).protocol !== new URL(issuer).protocol) {
        throw new Error('OIDC jwks_uri does not use the issuer’s scheme');
      }
      return createRemoteJWKSet(new URL(jwksUri));
    })();
    return this.keys.catch((err: unknown) => {
      this.keys = undefined;
      throw err;
    });
  }
}

/** Whether the claim at `path` (dotted for nested claims) is `role`, or an array holding it. */
export function holdsRole(payload: Record<string, unknown>, path: string, role: string): boolean {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    value = (value as Record<string, unknown>)[key];
  }
  return value === role || (Array.isArray(value) && value.includes(role));
}
