/**
 * Who may have sent a delivery, checked on every one before its handler sees it.
 *
 * Guarantee: a message is handled only if the broker user that published it is the one the routing says sends it —
 * the owner of its type when it arrives by `orderflow.commands` or `orderflow.events`, and the queue's own service
 * when it comes back by `orderflow.retry` (a delayed retry or a dead-letter replay, which only a queue's owner may
 * send). The sender is read from the AMQP `user_id`, which the broker refuses to pass on unless it names the very
 * user the publishing connection authenticated as. Anything else is refused as undeliverable and dead-lettered with
 * the reason, never handled.
 *
 * The broker's topic permissions already refuse such publishes (topology.ts, `brokerPermissions`); this is the
 * second lock, for a permission set by hand, a broker whose users were provisioned from an older routing, or a user
 * given the `impersonator` tag (ADR 0016).
 */
import type { Routing } from '@orderflow/contracts';
import { EXCHANGES } from '../topology/topology.js';

/** The broker user a service connects as. By convention, and as `npm run up` and the manifests provision them: its name. */
export const brokerUserOfService = (service: string): string => service;

export class PublisherCheck {
  /**
   * @param senders each wire type's sender, as a broker user
   * @param ownUser the broker user of the service that consumes (the only sender of its retries and replays)
   */
  constructor(
    private readonly senders: ReadonlyMap<string, string>,
    private readonly ownUser: string,
  ) {}

  /** Why this delivery may not be handled, or undefined when it was sent by whom it should have been. */
  refusal(type: string, exchange: string, userId: unknown): string | undefined {
    const expected = exchange === EXCHANGES.retry ? this.ownUser : this.senders.get(type);
    if (expected === undefined) return `no service sends ${type}`;
    if (userId === expected) return undefined;
    const sender =
      typeof userId === 'string' && userId !== '' ? `broker user '${userId}'` : 'a publisher that gave no user_id';
    return `${type} sent by ${sender} through ${exchange || 'the default exchange'}; only '${expected}' may send it there`;
  }
}

/** The check for one service's consumers, from the routing: who publishes each type. */
export function publisherCheckFor(
  routing: Routing,
  service: string,
  brokerUserOf: (service: string) => string = brokerUserOfService,
): PublisherCheck {
  const senders = new Map<string, string>();
  for (const [publisher, types] of Object.entries(routing.publishes)) {
    for (const type of types) senders.set(type.type, brokerUserOf(publisher));
  }
  return new PublisherCheck(senders, brokerUserOf(service));
}
