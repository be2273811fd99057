/**
 * The SSRF policy of outbound delivery: which addresses are refused (every non-global class, including IPv6 forms
 * that embed an IPv4 address), how HOOKHUB_ALLOW_PRIVATE_TARGETS reopens ranges, and the URL shape check.
 */
import { ConfigurationError, BadRequestError } from '../../../lambdas/core/errors';
import {
  addressRefusal,
  checkTargetUrl,
  NO_ALLOWED_TARGETS,
  parseAllowedTargets,
  refusedAddressClass,
} from '../../../lambdas/core/outbound/target-address-policy';

describe('addressRefusal without an allow-list', () => {
  it.each([
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.88.99.1', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'site-local'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'discard'],
    ['5f00::1', 'not a global unicast address'],
    // IPv6 forms that embed a non-global IPv4 address
    ['::ffff:127.0.0.1', 'IPv4-mapped address of 127.0.0.1, a loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped address of 127.0.0.1, a loopback'],
    ['::ffff:169.254.169.254', 'IPv4-mapped address of 169.254.169.254, a link-local'],
    ['::ffff:10.0.0.1', 'IPv4-mapped address of 10.0.0.1, a private'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 address of 169.254.169.254'],
    ['64:ff9b::10.1.2.3', 'NAT64 address of 10.1.2.3, a private'],
    ['2002:7f00:1::1', '6to4 address of 127.0.0.1'],
    ['2002:a9fe:a9fe::', '6to4 address of 169.254.169.254'],
    // IPv6 forms refused whatever they embed
    ['::127.0.0.1', 'IPv4-compatible'],
    ['::8.8.8.8', 'IPv4-compatible'],
    ['64:ff9b:1::808:808', 'local-use NAT64'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    // Not an address at all: fail closed
    ['example.com', 'not an IP address'],
    ['127.1', 'not an IP address'],
    ['', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    const refusal = addressRefusal(address, NO_ALLOWED_TARGETS);
    expect(refusal).toContain(reason);
    expect(refusal?.startsWith(`${address} is `)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '100.63.255.255', // just below carrier-grade NAT
    '100.128.0.0', // just above it
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above it
    '192.31.196.1', // AS112: special-purpose but globally reachable
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8', // IPv4-mapped global
    '64:ff9b::808:808', // NAT64 of 8.8.8.8, as DNS64 answers on an IPv6-only network
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ])('allows the global address %s', (address) => {
    expect(addressRefusal(address, NO_ALLOWED_TARGETS)).toBeUndefined();
  });

  it('names the class alone for messages that name the address themselves', () => {
    expect(refusedAddressClass('10.0.0.1', NO_ALLOWED_TARGETS)).toBe('a private address');
    expect(refusedAddressClass('8.8.8.8', NO_ALLOWED_TARGETS)).toBeUndefined();
    expect(addressRefusal('169.254.169.254', NO_ALLOWED_TARGETS)).toBe(
      '169.254.169.254 is a link-local address (where cloud instance metadata lives)',
    );
  });
});

describe('HOOKHUB_ALLOW_PRIVATE_TARGETS', () => {
  it('127.0.0.0/8 allows loopback IPv4, also written IPv4-mapped, and nothing else', () => {
    const allowed = parseAllowedTargets('127.0.0.0/8');
    expect(addressRefusal('127.0.0.1', allowed)).toBeUndefined();
    expect(addressRefusal('127.9.9.9', allowed)).toBeUndefined();
    expect(addressRefusal('::ffff:127.0.0.1', allowed)).toBeUndefined();
    expect(addressRefusal('::1', allowed)).toContain('loopback');
    expect(addressRefusal('::127.0.0.1', allowed)).toContain('IPv4-compatible');
    expect(addressRefusal('10.0.0.1', allowed)).toContain('private');
    expect(addressRefusal('169.254.169.254', allowed)).toContain('link-local');
  });

  it('::1/128 allows IPv6 loopback only', () => {
    const allowed = parseAllowedTargets('::1/128');
    expect(addressRefusal('::1', allowed)).toBeUndefined();
    expect(addressRefusal('127.0.0.1', allowed)).toContain('loopback');
  });

  it('reads several entries, bare addresses as single hosts, and skips empty entries', () => {
    const allowed = parseAllowedTargets(' 10.1.0.0/16 , ::1,192.168.1.5,fd00::/8,');
    expect(allowed.ranges.map((range) => [range.cidr, range.prefixLength])).toEqual([
      ['10.1.0.0/16', 16],
      ['::1', 128],
      ['192.168.1.5', 32],
      ['fd00::/8', 8],
    ]);
    expect(addressRefusal('10.1.200.3', allowed)).toBeUndefined();
    expect(addressRefusal('10.2.0.1', allowed)).toContain('private');
    expect(addressRefusal('192.168.1.5', allowed)).toBeUndefined();
    expect(addressRefusal('192.168.1.6', allowed)).toContain('private');
    expect(addressRefusal('fd12::1', allowed)).toBeUndefined();
  });

  it('is empty when unset or blank', () => {
    expect(parseAllowedTargets(undefined).ranges).toEqual([]);
    expect(parseAllowedTargets('').ranges).toEqual([]);
    expect(parseAllowedTargets(' , ').ranges).toEqual([]);
  });

  it('does not make non-addresses reachable', () => {
    expect(addressRefusal('localhost', parseAllowedTargets('0.0.0.0/0,::/0'))).toContain('not an IP address');
  });

  it.each(['10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', '10.0.0.0/x', 'localhost', '10', '127.1', '300.1.1.1', '[::1]', 'fe80::zz'])(
    'refuses the entry %s, naming it',
    (entry) => {
      const parse = () => parseAllowedTargets(`127.0.0.0/8,${entry}`);
      expect(parse).toThrow(ConfigurationError);
      expect(parse).toThrow(`'${entry}'`);
      expect(parse).toThrow('HOOKHUB_ALLOW_PRIVATE_TARGETS');
    },
  );
});

describe('checkTargetUrl', () => {
  it('accepts absolute http and https URLs', () => {
    expect(checkTargetUrl('https://example.com/hooks?a=1', { httpsOnly: true }).hostname).toBe('example.com');
    expect(checkTargetUrl('http://example.com:8080/x', { httpsOnly: false }).port).toBe('8080');
    expect(checkTargetUrl('http://[::1]:9/', { httpsOnly: false }).hostname).toBe('[::1]');
  });

  it.each([
    ['/relative/path', false, 'absolute'],
    ['not a url', false, 'absolute'],
    ['ftp://example.com/', false, 'scheme must be http or https, not ftp'],
    ['file:///etc/passwd', false, 'not file'],
    ['javascript:alert(1)', false, 'not javascript'],
    ['https://user:secret@example.com/', false, 'credentials'],
    ['https://user@example.com/', false, 'credentials'],
    ['http://example.com/', true, 'https'],
  ])('refuses %s (httpsOnly %s)', (url, httpsOnly, reason) => {
    const check = () => checkTargetUrl(url, { httpsOnly });
    expect(check).toThrow(BadRequestError);
    expect(check).toThrow(reason);
  });

  it('does not repeat the URL, which may hold a secret', () => {
    expect(() => checkTargetUrl('https://user:hunter2@example.com/', { httpsOnly: false })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
