/**
 * Which addresses an outbound delivery may reach (the SSRF policy), and the shape an endpoint URL must have. Pure:
 * the HTTP adapter (lambdas/adapters/http/webhook-sender.ts) resolves names and asks this module about each address.
 *
 * The rule is "global unicast only": a sender running in a cloud must not be turned into a way to reach the
 * instance metadata service (169.254.169.254), the VPC, or the machine itself. Development setups that deliver to
 * a receiver on loopback or in a private network list those ranges in HOOKHUB_ALLOW_PRIVATE_TARGETS.
 */
import ipaddr from 'ipaddr.js';
import { BadRequestError, ConfigurationError } from '../errors';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One CIDR of HOOKHUB_ALLOW_PRIVATE_TARGETS. */
export interface AllowedRange {
  /** As the operator wrote it, trimmed (for messages and logs). */
  cidr: string;
  network: Address;
  prefixLength: number;
}

/** Ranges that may be reached although they are not global (HOOKHUB_ALLOW_PRIVATE_TARGETS); empty in production. */
export interface AllowedTargets {
  readonly ranges: readonly AllowedRange[];
}

export const NO_ALLOWED_TARGETS: AllowedTargets = { ranges: [] };

/**
 * Parses HOOKHUB_ALLOW_PRIVATE_TARGETS: comma-separated CIDRs, IPv4 or IPv6; a bare address is a single host (/32 or
 * /128). Empty entries (a trailing comma) are skipped. IPv4 must be written as four decimal parts: `10` or `127.1`
 * are valid inet_aton forms, but in an allow-list they are far more likely a typo than a wish to allow 0.0.0.10.
 */
export function parseAllowedTargets(value: string | undefined): AllowedTargets {
  const ranges: AllowedRange[] = [];
  for (const entry of (value ?? '').split(',')) {
    const cidr = entry.trim();
    if (cidr === '') continue;
    ranges.push(parseAllowedRange(cidr));
  }
  return { ranges };
}

function parseAllowedRange(cidr: string): AllowedRange {
  const refuse = (): never => {
    throw new ConfigurationError(
      `environment variable HOOKHUB_ALLOW_PRIVATE_TARGETS: '${cidr}' is not an IPv4 or IPv6 address or CIDR (e.g. 127.0.0.0/8, 10.1.2.3, ::1/128)`,
    );
  };
  const [host = '', prefix, ...rest] = cidr.split('/');
  if (rest.length > 0) return refuse();
  const network = parseStrictAddress(host) ?? refuse();
  const maxPrefixLength = network instanceof ipaddr.IPv4 ? 32 : 128;
  if (prefix === undefined) return { cidr, network, prefixLength: maxPrefixLength };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > maxPrefixLength) return refuse();
  return { cidr, network, prefixLength: Number(prefix) };
}

/**
 * An IP address in its usual written form (dotted quad, or IPv6 as RFC 4291 writes it), else undefined. Names and
 * the short IPv4 forms are not addresses here: the URL parser and DNS only ever hand over the usual form.
 */
function parseStrictAddress(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  const ipv6 = withHexIpv4Tail(text);
  if (ipv6 !== undefined && ipaddr.IPv6.isValid(ipv6)) return ipaddr.IPv6.parse(ipv6);
  return undefined;
}

/**
 * Rewrites a dotted-quad tail (`::ffff:127.0.0.1`) as two hex groups (`::ffff:7f00:1`) before ipaddr.js sees it:
 * ipaddr.js reads the deprecated IPv4-compatible text `::a.b.c.d` as IPv4-mapped `::ffff:a.b.c.d`, which is another
 * address (and glibc's inet_ntop writes IPv4-compatible answers in exactly that text). Undefined if the tail is
 * dotted but not a valid IPv4 address.
 */
function withHexIpv4Tail(text: string): string | undefined {
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)(%.*)?$/.exec(text);
  if (!dotted) return text;
  const [, head = '', ipv4 = '', zone = ''] = dotted;
  if (!ipaddr.IPv4.isValidFourPartDecimal(ipv4)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(ipv4).octets;
  return `${head}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}${zone}`;
}

/**
 * Why `address` may not be reached, e.g. `127.0.0.1 is a loopback address`; undefined when it may. Anything that is
 * not a parseable IP address is refused (fail closed).
 */
export function addressRefusal(address: string, allowed: AllowedTargets): string | undefined {
  const refusedAs = refusedAddressClass(address, allowed);
  return refusedAs === undefined ? undefined : `${address} is ${refusedAs}`;
}

/**
 * The class of a refused address as a noun phrase (`a private address`), for messages that name the address
 * themselves (`example.com resolves to 10.0.0.1, a private address`); undefined when the address may be reached.
 */
export function refusedAddressClass(address: string, allowed: AllowedTargets): string | undefined {
  const parsed = parseStrictAddress(address);
  if (parsed === undefined) return 'not an IP address';
  if (isAllowListed(parsed, allowed)) return undefined;
  return parsed instanceof ipaddr.IPv4 ? nonGlobalIpv4Class(parsed) : nonGlobalIpv6Class(parsed);
}

/** The address as parsed, and an IPv4-mapped IPv6 address also as IPv4 (so `127.0.0.0/8` covers `::ffff:127.0.0.1`). */
function isAllowListed(address: Address, allowed: AllowedTargets): boolean {
  const forms: Address[] = [address];
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) forms.push(address.toIPv4Address());
  // match() throws across families, so each form is only compared with ranges of its own.
  return allowed.ranges.some((range) => forms.some((form) => form.kind() === range.network.kind() && form.match(range.network, range.prefixLength)));
}

type RangeTable<T extends Address> = readonly (readonly [network: T, prefixLength: number, refusedAs: string])[];

const v4 = (cidr: string): [ipaddr.IPv4, number] => ipaddr.IPv4.parseCIDR(cidr);
const v6 = (cidr: string): [ipaddr.IPv6, number] => ipaddr.IPv6.parseCIDR(cidr);

/**
 * The IPv4 ranges of the IANA special-purpose registry that are not globally reachable, first match wins. The
 * registry's globally reachable special ranges (AS112 192.31.196/24 and 192.175.48/24, AMT 192.52.193/24) are
 * ordinary destinations and are not listed.
 */
const NON_GLOBAL_IPV4: RangeTable<ipaddr.IPv4> = [
  [...v4('0.0.0.0/8'), 'an unspecified ("this network") address'],
  [...v4('10.0.0.0/8'), 'a private address'],
  [...v4('100.64.0.0/10'), 'a carrier-grade NAT address'],
  [...v4('127.0.0.0/8'), 'a loopback address'],
  [...v4('169.254.0.0/16'), 'a link-local address (where cloud instance metadata lives)'],
  [...v4('172.16.0.0/12'), 'a private address'],
  [...v4('192.0.0.0/24'), 'a reserved (IETF protocol assignments) address'],
  [...v4('192.0.2.0/24'), 'a documentation address'],
  [...v4('192.88.99.0/24'), 'a reserved (deprecated 6to4 relay) address'],
  [...v4('192.168.0.0/16'), 'a private address'],
  [...v4('198.18.0.0/15'), 'a benchmarking address'],
  [...v4('198.51.100.0/24'), 'a documentation address'],
  [...v4('203.0.113.0/24'), 'a documentation address'],
  [...v4('224.0.0.0/4'), 'a multicast address'],
  [...v4('255.255.255.255/32'), 'the broadcast address'],
  [...v4('240.0.0.0/4'), 'a reserved address'],
];

function nonGlobalIpv4Class(address: ipaddr.IPv4): string | undefined {
  return NON_GLOBAL_IPV4.find(([network, prefixLength]) => address.match(network, prefixLength))?.[2];
}

/**
 * IPv6 forms that carry an IPv4 address. Traffic to them ends up at that IPv4 address (through the host's own stack,
 * a NAT64 gateway or a 6to4 relay), so the embedded address is checked with the IPv4 rules: a DNS64 resolver on an
 * IPv6-only network legitimately answers `64:ff9b::8.8.8.8`, while `64:ff9b::a9fe:a9fe` is the metadata service.
 * The forms whose embedded address cannot be read reliably, or that no real endpoint uses, are refused outright:
 * IPv4-compatible (::/96, deprecated by RFC 4291), the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215: where the
 * IPv4 sits depends on the prefix length each network picks) and Teredo 2001::/32 (obfuscated client address,
 * obsolete).
 */
const EMBEDDED_IPV4_FORMS: readonly (readonly [network: ipaddr.IPv6, prefixLength: number, form: string, embeddedAt: 'last32' | 'bits16to48'])[] = [
  [...v6('::ffff:0:0/96'), 'an IPv4-mapped address', 'last32'],
  [...v6('64:ff9b::/96'), 'a NAT64 address', 'last32'],
  [...v6('2002::/16'), 'a 6to4 address', 'bits16to48'],
];

/**
 * Non-global IPv6 ranges, first match wins. Checked before the "outside 2000::/3" rule only to give a precise reason;
 * anything outside 2000::/3 (global unicast) is refused anyway.
 */
const NON_GLOBAL_IPV6: RangeTable<ipaddr.IPv6> = [
  [...v6('::/128'), 'the unspecified address'],
  [...v6('::1/128'), 'a loopback address'],
  [...v6('::/96'), 'an IPv4-compatible address (deprecated; refused whatever it embeds)'],
  [...v6('64:ff9b:1::/48'), 'a local-use NAT64 address (refused whatever it embeds)'],
  [...v6('100::/64'), 'a discard-only address'],
  [...v6('fc00::/7'), 'a unique-local address'],
  [...v6('fe80::/10'), 'a link-local address'],
  [...v6('fec0::/10'), 'a site-local address'],
  [...v6('ff00::/8'), 'a multicast address'],
  [...v6('2001::/32'), 'a Teredo address (refused whatever it embeds)'],
  [...v6('2001:2::/48'), 'a benchmarking address'],
  [...v6('2001:db8::/32'), 'a documentation address'],
  // IETF protocol assignments: a few of its blocks are global (AS112, ORCHIDv2), but no webhook receiver lives there.
  [...v6('2001::/23'), 'a reserved (IETF protocol assignments) address'],
  [...v6('3fff::/20'), 'a documentation address'],
];

const GLOBAL_UNICAST_IPV6 = v6('2000::/3');

function nonGlobalIpv6Class(address: ipaddr.IPv6): string | undefined {
  for (const [network, prefixLength, form, embeddedAt] of EMBEDDED_IPV4_FORMS) {
    if (!address.match(network, prefixLength)) continue;
    const embedded = embeddedIpv4(address, embeddedAt);
    const embeddedClass = nonGlobalIpv4Class(embedded);
    return embeddedClass === undefined ? undefined : `${form} of ${embedded.toString()}, ${embeddedClass}`;
  }
  const special = NON_GLOBAL_IPV6.find(([network, prefixLength]) => address.match(network, prefixLength));
  if (special) return special[2];
  if (!address.match(GLOBAL_UNICAST_IPV6)) return 'not a global unicast address (outside 2000::/3)';
  return undefined;
}

function embeddedIpv4(address: ipaddr.IPv6, embeddedAt: 'last32' | 'bits16to48'): ipaddr.IPv4 {
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(embeddedAt === 'last32' ? bytes.slice(12, 16) : bytes.slice(2, 6));
}

/**
 * Checks an endpoint URL's shape (no network): absolute http(s), no credentials (they would be sent to the receiver
 * in an Authorization header and shown wherever the URL is shown; endpoint headers are the place for them), https
 * when `httpsOnly`. Throws BadRequestError saying what to change; the message never repeats the URL, which may
 * carry a secret.
 */
export function checkTargetUrl(url: string, options: { httpsOnly: boolean }): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new BadRequestError('url: must be an absolute http:// or https:// URL', { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadRequestError(`url: the scheme must be http or https, not ${parsed.protocol.slice(0, -1)}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new BadRequestError('url: must not contain credentials (user:password@); send them as an endpoint header instead');
  }
  if (options.httpsOnly && parsed.protocol !== 'https:') {
    throw new BadRequestError('url: must use https (this hookhub delivers over https only)');
  }
  return parsed;
}
