/**
 * Where Earshot may connect on its own. A feed is fetched because the user asked for it, but
 * what the feed names (enclosures, transcripts, chapters, artwork) comes from its publisher: a
 * public feed must not make the app probe the user's own machine or network. So every outbound
 * request of the ingest path goes through `guardedFetch`:
 *
 * - only http and https;
 * - no connection to a loopback, link-local, private or otherwise special address, unless the
 *   host is one the user subscribed to by hand (`trustedHost`: the feed's own host);
 * - the check is made on the address the connection really uses, after DNS resolution, inside
 *   the connector, so a name that resolves to a public address once and to 127.0.0.1 the next
 *   time (DNS rebinding) is refused too, and so is each redirect;
 * - an idle timeout: no byte for `idleMs` fails the request (undici's headers and body timeouts).
 */
import dns from 'node:dns';
import net from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { IngestError } from './errors.ts';

const special = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  special.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some)
  ['ff00::', 8], // multicast
] as const) {
  special.addSubnet(prefix, bits, 'ipv6');
}

/** An IPv4 address inside an IPv6 one (mapped, compatible, NAT64, 6to4), or null. */
function embeddedIpv4(address: string): string | null {
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/i.exec(address);
  if (sixToFour) {
    const hi = parseInt(sixToFour[1]!, 16);
    const lo = parseInt(sixToFour[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** Whether an IP address is loopback, link-local, private or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(bare);
  if (family === 4) return special.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) return special.check(v4, 'ipv4');
    return special.check(bare, 'ipv6');
  }
  return false;
}

/** A host as compared with the trusted one: lower case, without IPv6 brackets or a trailing dot. */
export function normalHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

export class PrivateAddressError extends Error {
  readonly code = 'EARSHOT_PRIVATE_ADDRESS';
  readonly host: string;
  readonly address: string;
  constructor(host: string, address: string) {
    super(`${host} is at ${address}, an address on this computer or its local network`);
    this.host = host;
    this.address = address;
  }
}

/** The error a person reads when a publisher's address points into their own network. */
export function privateAddressError(url: URL, address: string, cause?: unknown): IngestError {
  return new IngestError(
    'HTTP_PRIVATE',
    `Earshot did not connect to ${url.host}: it is on this computer or your local network (${address}), and you did not subscribe to a feed there. A podcast may not send Earshot to addresses inside your network.`,
    { cause },
  );
}

export function checkScheme(url: URL, what = 'address'): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new IngestError(
      'HTTP_SCHEME',
      `Earshot only follows http and https addresses; this ${what} is a ${url.protocol.replace(/:$/, '')}: address (${url.href.slice(0, 80)}).`,
    );
  }
}

export interface Policy {
  /** The host the user subscribed to by hand (may be private). Default none. */
  trustedHost?: string | null;
  /** No byte for this long fails the request, in ms. Default 30 s. */
  idleMs?: number;
}

export const DEFAULT_IDLE_MS = 30_000;

function guardedConnector(trustedHost: string | null): buildConnector.connector {
  const trusted = (host: string) => trustedHost !== null && normalHost(host) === trustedHost;
  const lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, options, (err, address, family) => {
      if (err) return callback(err, address as string, family);
      if (!trusted(hostname)) {
        const all = Array.isArray(address) ? (address as dns.LookupAddress[]) : [{ address, family }];
        const bad = all.find((a) => isPrivateAddress(String(a.address)));
        if (bad) return callback(new PrivateAddressError(hostname, String(bad.address)), '', 4);
      }
      callback(null, address as string, family);
    });
  };
  const base = buildConnector({ lookup });
  return (options, callback) => {
    const host = normalHost(options.hostname);
    // An address written as an IP is never looked up: check it here.
    if (net.isIP(host) && !trusted(host) && isPrivateAddress(host)) {
      callback(new PrivateAddressError(options.hostname, host), null);
      return;
    }
    base(options, callback);
  };
}

const agents = new Map<string, Agent>();
function agentFor(trustedHost: string | null, idleMs: number): Agent {
  const key = `${trustedHost ?? ''}\u0000${idleMs}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: guardedConnector(trustedHost),
      headersTimeout: idleMs,
      bodyTimeout: idleMs,
    });
    agents.set(key, agent);
  }
  return agent;
}

/** The PrivateAddressError somewhere in an error's causes, if any. */
export function privateCause(err: unknown): PrivateAddressError | null {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof PrivateAddressError) return e;
  }
  return null;
}

/**
 * `fetch` under the policy above. Redirects are followed by the caller or by fetch itself;
 * either way every connection goes through the guarded connector.
 */
export async function guardedFetch(
  input: string | URL,
  init: {
    method?: string;
    headers?: Record<string, string>;
    signal?: AbortSignal;
    redirect?: 'follow' | 'manual';
  } = {},
  policy: Policy = {},
): Promise<Response> {
  const url = new URL(input);
  checkScheme(url);
  const trustedHost = policy.trustedHost ? normalHost(policy.trustedHost) : null;
  const dispatcher = agentFor(trustedHost, policy.idleMs ?? DEFAULT_IDLE_MS);
  try {
    return (await undiciFetch(url, { ...init, dispatcher })) as unknown as Response;
  } catch (err) {
    const blocked = privateCause(err);
    if (blocked) throw privateAddressError(url, blocked.address, err);
    // fetch refuses a redirect to another scheme with a TypeError: say it plainly.
    throw err;
  }
}

/** The hostname of a feed address the user subscribed to, as `trustedHost`. */
export function hostOf(address: string | null | undefined): string | null {
  if (!address) return null;
  try {
    return normalHost(new URL(address).hostname);
  } catch {
    return null;
  }
}
