/**
 * Every node of a RabbitMQ cluster as one place to connect to, for services that reach the nodes directly (outside
 * Kubernetes, where the cluster operator's Service already spreads connections over the nodes).
 *
 * Guarantee: while any node of the list answers, a lost connection is re-established on one that does. amqplib's
 * recovery reconnects to the address it was given, reading it afresh on every attempt; it is given `endpoint`,
 * which this class points at the next address after each failed attempt and each lost connection, so the same
 * recovery (backoff, jitter, set-up again) walks the list round and round. The first address is chosen at random,
 * so that replicas spread over the nodes instead of all landing on the first one.
 */
import type { Options } from 'amqplib';

export class BrokerAddresses {
  /** The connection parameters of the current address; the same object throughout, changed in place. */
  readonly endpoint: Options.Connect = {};
  private readonly endpoints: Options.Connect[];
  private index: number;

  /** The broker user every address connects as: the one the broker names as the publisher of what is sent. */
  readonly user: string;

  constructor(urls: string | readonly string[], random: () => number = Math.random) {
    const list = typeof urls === 'string' ? [urls] : urls;
    if (list.length === 0) throw new Error('no broker address given');
    this.endpoints = list.map(endpointOf);
    // Messages carry their sender's user name, which the broker checks against the connection's: the nodes of one
    // cluster share their users, so a list naming two users is a mistake, and one that would fail every publish.
    const users = new Set(this.endpoints.map((e) => e.username ?? 'guest'));
    if (users.size > 1) throw new Error('the broker addresses name different users; give every address the same one');
    this.user = [...users][0];
    this.index = Math.floor(random() * list.length) % list.length;
    Object.assign(this.endpoint, this.endpoints[this.index]);
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** Where `endpoint` points now, without credentials: fit for a log line. */
  get current(): string {
    return addressOf(this.endpoint);
  }

  /** Points `endpoint` at the next address, after the last one the first again. */
  advance(): void {
    this.index = (this.index + 1) % this.endpoints.length;
    Object.assign(this.endpoint, this.endpoints[this.index]);
  }
}

/**
 * One AMQP URL as amqplib's connection parameters, read the way amqplib reads a URL string: user and password
 * percent-decoded (guest when both are absent), the vhost from the path, the tuning parameters from the query.
 * Every field is present, undefined when unset, so assigning one endpoint over another leaves nothing behind.
 */
export function endpointOf(url: string): Options.Connect {
  const parsed = new URL(url);
  const query = parsed.searchParams;
  const number = (name: string) => (query.has(name) ? Number(query.get(name)) : undefined);
  const hasCredentials = parsed.username !== '' || parsed.password !== '';
  return {
    protocol: parsed.protocol.replace(/:$/, ''),
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : undefined,
    username: hasCredentials ? decodeURIComponent(parsed.username) : undefined,
    password: hasCredentials ? decodeURIComponent(parsed.password) : undefined,
    vhost: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '/',
    heartbeat: number('heartbeat'),
    frameMax: number('frameMax'),
    channelMax: number('channelMax'),
    locale: query.get('locale') ?? undefined,
  };
}

function addressOf(endpoint: Options.Connect): string {
  const port = endpoint.port ?? (endpoint.protocol === 'amqps' ? 5671 : 5672);
  return `${endpoint.protocol}://${endpoint.hostname}:${port}/${encodeURIComponent(endpoint.vhost ?? '/')}`;
}
