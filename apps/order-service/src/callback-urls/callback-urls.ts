import { Logger } from '@nestjs/common';
import {
  type CallbackUrlPolicy,
  checkCallbackUrl,
  DEFAULT_RESOLVE_TIMEOUT_MS,
  type LookupAll,
  resolveCallbackHost,
} from './callback-url.js';
import { InvalidRequest } from '@orderflow/platform/domain-errors';

export class InvalidCallbackUrl extends InvalidRequest {}

/**
 * The one answer a merchant gets for a callback URL whose host may not be called — whether it resolves to an internal
 * address, does not resolve, or does not resolve in time — so that placing orders cannot map orderflow's network.
 */
export const CALLBACK_HOST_REFUSED = 'callbackUrl must name a host that resolves, promptly, to public addresses only';

/** Checks a merchant's callback URL when an order is placed; delivery checks the address again at every connect. */
export class CallbackUrls {
  private readonly logger = new Logger('CallbackUrls');

  constructor(
    private readonly policy: CallbackUrlPolicy,
    private readonly resolveTimeoutMs = DEFAULT_RESOLVE_TIMEOUT_MS,
    private readonly lookup?: LookupAll,
  ) {}

  /** Throws InvalidCallbackUrl with a reason fit to show the merchant. */
  async check(raw: string): Promise<void> {
    const checked = checkCallbackUrl(raw, this.policy);
    const resolved = checked.ok
      ? await resolveCallbackHost(checked.url, this.policy, this.lookup, this.resolveTimeoutMs)
      : checked;
    if (resolved.ok) return;
    if (resolved.about === 'url') throw new InvalidCallbackUrl(resolved.reason);
    // The precise cause is for operators only; the host is the merchant's own input, no secret.
    this.logger.log({ message: 'callback URL refused', host: URL.parse(raw)?.hostname, cause: resolved.reason });
    throw new InvalidCallbackUrl(CALLBACK_HOST_REFUSED);
  }
}
