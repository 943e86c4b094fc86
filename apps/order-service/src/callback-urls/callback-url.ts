/**
 * Keeps merchants' callback URLs from reaching inside orderflow's network (server-side request forgery): a callback
 * URL is accepted only if it is plain http(s) without credentials and every address its host stands for is public
 * unicast. The check runs when an order is placed and again on every connection (see webhook-delivery.ts), so a DNS
 * answer that changes after placement (rebinding) cannot point a delivery inside.
 *
 * Addresses are judged by an allow-list, not a deny-list: only what `ipaddr.js` classifies as `unicast` (and, for
 * IPv6, only inside the global unicast block 2000::/3) is public, so a range nobody thought of is refused, not let
 * through. Reasons name no internal detail; those about the host (what it resolves to, whether it resolves at all,
 * in time) are told apart here, for the logs, but a merchant is given one answer for all of them (callback-urls.ts),
 * so placing orders cannot be used to map which names exist inside orderflow's network.
 */
import { type LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export interface CallbackUrlPolicy {
  /** Development installs only: lets a receiver on localhost or the LAN be used. */
  allowPrivateNetworks: boolean;
}

/** `about`: whether the URL itself is wrong (its scheme, credentials…) or the host it names may not be called. */
export type CallbackUrlCheck = { ok: true; url: URL } | { ok: false; reason: string; about: 'url' | 'host' };

/** Resolves every address of a host name; `dns.promises.lookup` fits. */
export type LookupAll = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

const NON_PUBLIC = 'callbackUrl may not point at a loopback, private or link-local address';
const NOT_UNICAST = 'callbackUrl must point at a public unicast address';
const DOES_NOT_RESOLVE = 'callbackUrl host does not resolve';
const TOO_SLOW = 'callbackUrl host did not resolve in time';

/** How long resolving a callback host may take at placement, by default. */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 2_000;

// Where a receiver on the developer's own machine or LAN lives; everything else non-public is never a receiver.
const PRIVATE_RANGES: ReadonlySet<string> = new Set([
  'loopback',
  'private',
  'linkLocal',
  'uniqueLocal',
  'carrierGradeNat',
]);

// ipaddr.js calls everything it has no name for `unicast`, including the deprecated IPv4-compatible ::a.b.c.d and
// unassigned space; IANA has only ever allocated global unicast from 2000::/3.
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

export function checkCallbackUrl(raw: string, policy: CallbackUrlPolicy): CallbackUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'callbackUrl is not a valid URL', about: 'url' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'callbackUrl must use http or https', about: 'url' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'callbackUrl may not contain a user name or password', about: 'url' };
  }
  // A fragment is never sent to the server; refusing it tells the merchant now instead of leaving them to wonder
  // why their receiver never sees it. `href` keeps even an empty one ("…/#"), and any other '#' is percent-encoded.
  if (url.href.includes('#')) {
    return { ok: false, reason: 'callbackUrl may not contain a fragment (#…)', about: 'url' };
  }
  const host = bareHost(url);
  if (host === '') return { ok: false, reason: 'callbackUrl must name a host', about: 'url' };

  // The URL parser has already turned 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 into dotted quads.
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host, policy);
    return refusal === undefined ? { ok: true, url } : { ok: false, reason: refusal, about: 'host' };
  }
  if (isLocalhostName(host) && !policy.allowPrivateNetworks) return { ok: false, reason: NON_PUBLIC, about: 'host' };
  return { ok: true, url };
}

export function isAllowedAddress(ip: string, policy: CallbackUrlPolicy): boolean {
  return addressRefusal(ip, policy) === undefined;
}

/**
 * The DNS half of the check, for a URL that passed `checkCallbackUrl`: every address of the host must be allowed,
 * because the connection may use any of them.
 */
export async function resolveCallbackHost(
  url: URL,
  policy: CallbackUrlPolicy,
  lookup: LookupAll = dnsLookup,
  timeoutMs = DEFAULT_RESOLVE_TIMEOUT_MS,
): Promise<CallbackUrlCheck> {
  const host = bareHost(url);
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host, policy);
    return refusal === undefined ? { ok: true, url } : { ok: false, reason: refusal, about: 'host' };
  }
  if (isLocalhostName(host) && !policy.allowPrivateNetworks) return { ok: false, reason: NON_PUBLIC, about: 'host' };

  // getaddrinfo has no deadline of its own: a resolver that never answers would hold the placement.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  let addresses: LookupAddress[] | 'late';
  try {
    addresses = await Promise.race([lookup(host, { all: true }), late]);
  } catch {
    return { ok: false, reason: DOES_NOT_RESOLVE, about: 'host' };
  } finally {
    clearTimeout(timer);
  }
  if (addresses === 'late') return { ok: false, reason: TOO_SLOW, about: 'host' };
  if (addresses.length === 0) return { ok: false, reason: DOES_NOT_RESOLVE, about: 'host' };
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal !== undefined) return { ok: false, reason: refusal, about: 'host' };
  }
  return { ok: true, url };
}

/** Why the address may not be connected to, or undefined when it may. */
export function addressRefusal(ip: string, policy: CallbackUrlPolicy): string | undefined {
  if (!ipaddr.isValid(ip)) return NOT_UNICAST;
  // process() turns ::ffff:10.0.0.1 into 10.0.0.1, so a mapped address is judged as the IPv4 one it reaches.
  const address = ipaddr.process(ip);
  const range = address.range();
  if (range === 'unicast') {
    if (address.kind() === 'ipv6' && !address.match(IPV6_GLOBAL_UNICAST)) return NOT_UNICAST;
    return undefined;
  }
  if (PRIVATE_RANGES.has(range)) return policy.allowPrivateNetworks ? undefined : NON_PUBLIC;
  return NOT_UNICAST;
}

/** The host without IPv6 brackets or the trailing dot of a fully qualified name. */
function bareHost(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

// RFC 6761: these names are loopback whatever DNS says, and resolvers answer them locally.
function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}
