/**
 * What notifications needs of merchants: the secrets a merchant's notifications are signed with. Notifications owns
 * this port and MerchantsModule binds it, so notifications does not depend on the merchants feature's code.
 */
export abstract class WebhookSigningSecrets {
  /** The secrets to sign with now: every one not revoked, oldest first; none when the merchant has none. */
  abstract signingSecrets(merchantId: string): Promise<string[]>;
}
