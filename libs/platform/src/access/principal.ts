/** Who is calling, once a credential has been recognised. Never holds the credential itself. */
export type Principal = OperatorPrincipal | MerchantPrincipal;

export interface OperatorPrincipal {
  kind: 'operator';
  /** `token:<fingerprint>` for a configured token, `oidc:<sub>` for a verified JWT: safe to log and audit. */
  subject: string;
}

export interface MerchantPrincipal {
  kind: 'merchant';
  merchantId: string;
  /** The public id of the API key used, so one key can be rate-limited or revoked on its own. */
  keyId: string;
}

/**
 * Recognises merchant API keys. Only the service that owns merchants (the order service) provides one; elsewhere
 * no merchant credential exists, so merchant endpoints accept operators only.
 */
export abstract class MerchantAuthenticator {
  /** The merchant the key belongs to, or undefined for an unknown, malformed or revoked key. */
  abstract authenticate(apiKey: string): Promise<MerchantPrincipal | undefined>;
}
