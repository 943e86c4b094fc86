import { describe, expect, it } from 'vitest';
import { checkCallbackUrl, isAllowedAddress, resolveCallbackHost, type LookupAll } from './callback-url.js';
import { CALLBACK_HOST_REFUSED, CallbackUrls, InvalidCallbackUrl } from './callback-urls.js';

const strict = { allowPrivateNetworks: false };
const lenient = { allowPrivateNetworks: true };

const refusal = (raw: string, policy = strict) => {
  const result = checkCallbackUrl(raw, policy);
  return result.ok ? undefined : result.reason;
};

const fakeLookup =
  (...addresses: string[]): LookupAll =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('checkCallbackUrl', () => {
  it.each([
    'https://merchant.example/orderflow/notifications',
    'http://merchant.example:8080/hook?tenant=7',
    'https://93.184.215.14/hook',
    'https://[2606:4700::1111]/hook',
  ])('accepts %s', (raw) => {
    const result = checkCallbackUrl(raw, strict);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.url.href).toBe(new URL(raw).href);
  });

  it.each(['not a url', '', '/relative/path', 'http://'])('refuses %j as not a URL', (raw) => {
    expect(refusal(raw)).toBe('callbackUrl is not a valid URL');
  });

  it.each(['ftp://merchant.example/hook', 'javascript:alert(1)', 'file:///etc/passwd', 'ws://merchant.example/'])(
    'refuses the scheme of %s',
    (raw) => {
      expect(refusal(raw)).toBe('callbackUrl must use http or https');
    },
  );

  it.each(['https://user:pass@merchant.example/', 'https://user@merchant.example/', 'https://:pass@merchant.example/'])(
    'refuses credentials in %s',
    (raw) => {
      expect(refusal(raw)).toBe('callbackUrl may not contain a user name or password');
    },
  );

  it.each(['https://merchant.example/hook#part', 'https://merchant.example/hook#'])(
    'refuses the fragment in %s',
    (raw) => {
      expect(refusal(raw)).toBe('callbackUrl may not contain a fragment (#…)');
    },
  );

  it('accepts a percent-encoded # in the path or query, which is sent and is not a fragment', () => {
    expect(refusal('https://merchant.example/a%23b?c=%23')).toBeUndefined();
  });

  it.each([
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['10/8', 'http://10.1.2.3/'],
    ['172.16/12', 'http://172.16.0.1/'],
    ['172.31 (still 172.16/12)', 'http://172.31.255.254/'],
    ['192.168/16', 'http://192.168.1.10/'],
    ['carrier-grade NAT', 'http://100.64.0.1/'],
    ['127/8', 'http://127.0.0.1:3000/'],
    ['127/8 beyond .0.0.1', 'http://127.10.20.30/'],
    ['IPv6 loopback', 'http://[::1]/'],
    ['IPv6 link-local', 'http://[fe80::1]/'],
    ['IPv6 unique local', 'http://[fc00::1]/'],
    ['IPv6 unique local fd00::/8', 'http://[fd12:3456::1]/'],
    ['IPv4-mapped private', 'http://[::ffff:10.0.0.1]/'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
    ['decimal IPv4', 'http://2130706433/'],
    ['hex IPv4', 'http://0x7f.1/'],
    ['octal IPv4', 'http://0177.0.0.1/'],
    ['short IPv4', 'http://127.1/'],
    ['percent-encoded IPv4', 'http://%31%32%37.0.0.1/'],
    ['IPv4 with a trailing dot', 'http://127.0.0.1./'],
    ['localhost', 'http://localhost:4000/hook'],
    ['LOCALHOST. (case, trailing dot)', 'http://LOCALHOST./hook'],
    ['a *.localhost name', 'http://foo.localhost/hook'],
  ])('refuses %s (%s)', (_, raw) => {
    expect(refusal(raw)).toBe('callbackUrl may not point at a loopback, private or link-local address');
  });

  it.each([
    ['unspecified', 'http://0.0.0.0/'],
    ['0 (parsed as 0.0.0.0)', 'http://0/'],
    ['IPv6 unspecified', 'http://[::]/'],
    ['broadcast', 'http://255.255.255.255/'],
    ['multicast', 'http://224.0.0.1/'],
    ['IPv6 multicast', 'http://[ff02::1]/'],
    ['documentation range', 'http://192.0.2.1/'],
    ['reserved 240/4', 'http://240.0.0.1/'],
    ['IPv6 documentation range', 'http://[2001:db8::1]/'],
    ['6to4', 'http://[2002:a00:1::]/'],
    ['Teredo', 'http://[2001:0:a00:1::1]/'],
    ['NAT64 of a private address', 'http://[64:ff9b::a00:1]/'],
    ['IPv4-compatible (deprecated) loopback', 'http://[::127.0.0.1]/'],
    ['IPv6 outside 2000::/3', 'http://[100::1]/'],
  ])('refuses the non-unicast %s (%s)', (_, raw) => {
    expect(refusal(raw)).toBe('callbackUrl must point at a public unicast address');
  });

  describe('with allowPrivateNetworks', () => {
    it.each([
      'http://127.0.0.1:3000/',
      'http://localhost:4000/hook',
      'http://foo.localhost/hook',
      'http://10.1.2.3/',
      'http://192.168.1.10/',
      'http://169.254.169.254/',
      'http://100.64.0.1/',
      'http://[::1]/',
      'http://[fe80::1]/',
      'http://[fc00::1]/',
      'http://[::ffff:10.0.0.1]/',
      'https://93.184.215.14/',
    ])('accepts %s', (raw) => {
      expect(refusal(raw, lenient)).toBeUndefined();
    });

    it.each(['http://0.0.0.0/', 'http://[::]/', 'http://224.0.0.1/', 'http://[ff02::1]/', 'http://255.255.255.255/'])(
      'still refuses %s',
      (raw) => {
        expect(refusal(raw, lenient)).toBe('callbackUrl must point at a public unicast address');
      },
    );

    it('still refuses what is not about addresses', () => {
      expect(refusal('ftp://127.0.0.1/', lenient)).toBe('callbackUrl must use http or https');
      expect(refusal('http://u:p@127.0.0.1/', lenient)).toBe('callbackUrl may not contain a user name or password');
    });
  });
});

describe('isAllowedAddress', () => {
  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '2a00:1450:4001:80b::200e'])('allows public %s', (ip) => {
    expect(isAllowedAddress(ip, strict)).toBe(true);
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fe80::1%eth0', '::ffff:192.168.0.1', '0.0.0.0'])(
    'refuses %s',
    (ip) => {
      expect(isAllowedAddress(ip, strict)).toBe(false);
    },
  );

  it('refuses what is not an address at all', () => {
    expect(isAllowedAddress('merchant.example', strict)).toBe(false);
    expect(isAllowedAddress('', lenient)).toBe(false);
  });

  it('allows private addresses only when the policy says so', () => {
    expect(isAllowedAddress('192.168.0.1', lenient)).toBe(true);
    expect(isAllowedAddress('fe80::1%eth0', lenient)).toBe(true);
    expect(isAllowedAddress('224.0.0.1', lenient)).toBe(false);
  });
});

describe('resolveCallbackHost', () => {
  const url = new URL('https://merchant.example/hook');

  it('accepts a host whose every address is public', async () => {
    const result = await resolveCallbackHost(url, strict, fakeLookup('93.184.215.14', '2606:4700::1111'));
    expect(result).toEqual({ ok: true, url });
  });

  it('refuses a host with one public and one private address, since the connection may use either', async () => {
    const result = await resolveCallbackHost(url, strict, fakeLookup('93.184.215.14', '10.0.0.7'));
    expect(result).toEqual({
      ok: false,
      reason: 'callbackUrl may not point at a loopback, private or link-local address',
      about: 'host',
    });
  });

  it('accepts a private address when the policy allows it', async () => {
    expect((await resolveCallbackHost(url, lenient, fakeLookup('127.0.0.1'))).ok).toBe(true);
  });

  it('refuses a host that does not resolve or resolves to nothing', async () => {
    const failing: LookupAll = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    expect(await resolveCallbackHost(url, strict, failing)).toEqual({
      ok: false,
      reason: 'callbackUrl host does not resolve',
      about: 'host',
    });
    expect(await resolveCallbackHost(url, strict, fakeLookup())).toEqual({
      ok: false,
      reason: 'callbackUrl host does not resolve',
      about: 'host',
    });
  });

  it('asks for every address of the host', async () => {
    const asked: Array<[string, unknown]> = [];
    const lookup: LookupAll = (hostname, options) => {
      asked.push([hostname, options]);
      return Promise.resolve([{ address: '93.184.215.14', family: 4 }]);
    };
    await resolveCallbackHost(url, strict, lookup);
    expect(asked).toEqual([['merchant.example', { all: true }]]);
  });

  it('judges an IP literal without a lookup', async () => {
    const lookup: LookupAll = () => Promise.reject(new Error('must not be called'));
    expect((await resolveCallbackHost(new URL('http://[::ffff:127.0.0.1]/'), strict, lookup)).ok).toBe(false);
    expect((await resolveCallbackHost(new URL('https://93.184.215.14/'), strict, lookup)).ok).toBe(true);
  });

  it('refuses localhost without asking DNS', async () => {
    const lookup: LookupAll = () => Promise.reject(new Error('must not be called'));
    expect((await resolveCallbackHost(new URL('http://foo.localhost/'), strict, lookup)).ok).toBe(false);
  });
});

describe('resolveCallbackHost, given a resolver that does not answer', () => {
  it('refuses the host once the deadline passes, instead of waiting', async () => {
    const silent: LookupAll = () => new Promise(() => undefined);
    const started = Date.now();
    const result = await resolveCallbackHost(new URL('https://merchant.example/hook'), strict, silent, 50);
    expect(result).toEqual({ ok: false, reason: 'callbackUrl host did not resolve in time', about: 'host' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('CallbackUrls, the check at placement', () => {
  const refusedWith = async (raw: string, lookup: LookupAll) => {
    try {
      await new CallbackUrls(strict, 50, lookup).check(raw);
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidCallbackUrl);
      return (err as Error).message;
    }
  };

  it('says one thing for every host it may not call: internal, unresolvable, too slow, a private literal', async () => {
    const answers = [
      await refusedWith('https://db.internal/hook', fakeLookup('10.0.0.5')),
      await refusedWith('https://nowhere.example/hook', () => Promise.reject(new Error('ENOTFOUND'))),
      await refusedWith('https://slow.example/hook', () => new Promise(() => undefined)),
      await refusedWith('http://192.168.1.10/hook', fakeLookup()),
      await refusedWith('http://localhost/hook', fakeLookup()),
    ];
    expect(new Set(answers)).toEqual(new Set([CALLBACK_HOST_REFUSED]));
  });

  it('still says what is wrong with the URL itself', async () => {
    expect(await refusedWith('ftp://merchant.example/hook', fakeLookup('93.184.215.14'))).toBe(
      'callbackUrl must use http or https',
    );
    expect(await refusedWith('https://merchant.example/hook', fakeLookup('93.184.215.14'))).toBeUndefined();
  });
});
