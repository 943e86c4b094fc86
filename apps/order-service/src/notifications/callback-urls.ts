import { type CallbackUrlPolicy, checkCallbackUrl, resolveCallbackHost } from './callback-url.js';

export class InvalidCallbackUrl extends Error {}

/** Checks a merchant's callback URL when an order is placed; delivery checks the address again at every connect. */
export class CallbackUrls {
  constructor(private readonly policy: CallbackUrlPolicy) {}

  /** Throws InvalidCallbackUrl with a reason fit to show the merchant. */
  async check(raw: string): Promise<void> {
    const checked = checkCallbackUrl(raw, this.policy);
    if (!checked.ok) throw new InvalidCallbackUrl(checked.reason);
    const resolved = await resolveCallbackHost(checked.url, this.policy);
    if (!resolved.ok) throw new InvalidCallbackUrl(resolved.reason);
  }
}
