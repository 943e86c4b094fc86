import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
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

/** The OpenAPI security scheme of signed webhooks (declared in bootstrap.ts). */
export const WEBHOOK_SIGNATURE = 'webhookSignature';

// Each policy also says in the OpenAPI document what the route asks for: the document's default is the bearer
// credential; an open route asks for nothing (`security: []`, @nestjs/swagger's metadata key, set directly since
// ApiSecurity cannot say "none"), a signed one for the webhook signature.
export const OpenAccess = () =>
  applyDecorators(SetMetadata(ACCESS_POLICY, 'open' satisfies AccessPolicy), SetMetadata('swagger/apiSecurity', []));
export const MerchantAccess = () => SetMetadata(ACCESS_POLICY, 'merchant' satisfies AccessPolicy);
export const SignedAccess = () =>
  applyDecorators(SetMetadata(ACCESS_POLICY, 'signed' satisfies AccessPolicy), ApiSecurity(WEBHOOK_SIGNATURE));

export type AuthenticatedRequest = Request & { principal?: Principal };

/** The caller, as the access guard recognised it; only on routes that required a credential. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without a credential policy');
  return principal;
});
