import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from './principal.js';

/**
 * Who may call an endpoint. Secure by default: an endpoint without a policy needs an operator credential, so a new
 * controller cannot be exposed by forgetting a decorator.
 *
 * - `operator`  operator tokens or OIDC JWTs only (the default)
 * - `merchant`  a merchant's API key, or an operator credential (operators may read any merchant's data)
 * - `open`      no credential: health, readiness and metrics, which the cluster reaches from inside
 * - `signed`    no bearer credential; the route's own guard verifies the caller's signature (third parties' webhooks)
 */
export type AccessPolicy = 'operator' | 'merchant' | 'open' | 'signed';

export const ACCESS_POLICY = Symbol('orderflow:access-policy');

export const OpenAccess = () => SetMetadata(ACCESS_POLICY, 'open' satisfies AccessPolicy);
export const MerchantAccess = () => SetMetadata(ACCESS_POLICY, 'merchant' satisfies AccessPolicy);
export const SignedAccess = () => SetMetadata(ACCESS_POLICY, 'signed' satisfies AccessPolicy);

export type AuthenticatedRequest = Request & { principal?: Principal };

/** The caller, as the access guard recognised it; only on routes that required a credential. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without a credential policy');
  return principal;
});
