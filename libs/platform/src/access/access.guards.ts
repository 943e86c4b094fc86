/**
 * The three global guards every request passes, in this order:
 *
 * 1. `CallerIdentification` recognises the bearer credential (operator token, OIDC JWT, merchant API key) and
 *    remembers who is calling. It never refuses, so that…
 * 2. `RateLimit` can count every request, refused or not, against the caller's credential (or its address when it
 *    has none): guessing keys is throttled like any other traffic.
 * 3. `AccessControl` applies the route's policy and answers 401 with `WWW-Authenticate` when the caller is not
 *    allowed. Missing, malformed, unknown and revoked credentials get the same answer, so a caller learns nothing
 *    about which part was wrong.
 */
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  Optional,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Response } from 'express';
import { ACCESS_POLICY, type AccessPolicy, type AuthenticatedRequest } from './access-policy.js';
import { OperatorCredentials } from './operator-credentials.js';
import { MerchantAuthenticator } from './principal.js';

export const WWW_AUTHENTICATE = 'Bearer realm="orderflow"';

function policyOf(reflector: Reflector, context: ExecutionContext): AccessPolicy {
  return (
    reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [context.getHandler(), context.getClass()]) ??
    'operator'
  );
}

/** The token of an `Authorization: Bearer <token>` header; anything else is no credential. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([\x21-\x7e]{1,4096})$/i.exec(header ?? '');
  return match?.[1];
}

@Injectable()
export class CallerIdentification implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly operators: OperatorCredentials,
    @Optional() private readonly merchants?: MerchantAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const policy = policyOf(this.reflector, context);
    if (policy === 'open' || policy === 'signed') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerTokenOf(req.headers.authorization);
    if (!token) return true;
    req.principal =
      (await this.operators.verify(token)) ??
      (policy === 'merchant' ? await this.merchants?.authenticate(token) : undefined);
    return true;
  }
}

@Injectable()
export class RateLimit extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http' || policyOf(this.reflector, context) === 'open' || super.shouldSkip(context);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const { principal, ip } = req as unknown as AuthenticatedRequest;
    if (principal?.kind === 'merchant') return Promise.resolve(`merchant-key:${principal.keyId}`);
    if (principal?.kind === 'operator') return Promise.resolve(`operator:${principal.subject}`);
    return Promise.resolve(`address:${ip ?? 'unknown'}`);
  }

  protected override throwThrottlingException(_: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new HttpException(
      `At most ${detail.limit} requests per ${detail.ttl / 1000} s; retry after the time in Retry-After`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

@Injectable()
export class AccessControl implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const policy = policyOf(this.reflector, context);
    if (policy === 'open' || policy === 'signed') return true;
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.kind === 'operator' || (principal?.kind === 'merchant' && policy === 'merchant')) return true;
    context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
    throw new UnauthorizedException(
      policy === 'merchant'
        ? 'Send a valid API key or operator credential as Authorization: Bearer <credential>'
        : 'Send a valid operator credential as Authorization: Bearer <credential>',
    );
  }
}
