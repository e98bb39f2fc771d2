import { canonicalAddress, isForbiddenAddress } from './address-policy';
import { HostNotResolved, type HostResolver } from './host-resolver';
import { UrlGuard } from './url-guard';

/** A resolver with fixed answers: no test sends a DNS query. */
const resolver =
  (records: Record<string, string[]>): HostResolver =>
  async (name) => {
    const found = records[name.replace(/\.$/, '')]; // a fully qualified name resolves as the name
    if (!found) throw new HostNotResolved(name);
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('address spellings: every one is read as the address it is', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.000.000.001', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f.0.0.0x1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['10.1', '10.0.0.1'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['[::ffff:a9fe:a9fe]', '169.254.169.254'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['[::1]', '::1'],
    ['FE80::0001', 'fe80::1'],
  ])('%s is %s', (spelling, canonical) => expect(canonicalAddress(spelling)).toBe(canonical));

  it.each(['localhost', 'example', '1.2.3.4.5', '', '::g'])('%s is no address', (name) =>
    expect(canonicalAddress(name)).toBeNull(),
  );
});

describe('which addresses a callback may reach', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '192.0.2.1',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '2001::1',
    '::7f00:1',
    '::a9fe:a9fe',
    '100::1',
    'not an address',
  ])('forbids %s', (address) => expect(isForbiddenAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => expect(isForbiddenAddress(address)).toBe(false),
  );
});

describe('callback URL guard', () => {
  const guard = new UrlGuard(
    ['127.0.0.1', 'localhost', '::1'],
    resolver({
      localhost: ['127.0.0.1'],
      'hooks.customer.test': ['93.184.216.34'],
      'inside.test': ['10.0.0.7'],
    }),
  );

  it.each([
    'http://2130706433/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://0177.0.0.1/',
    'http://127.000.000.001/',
    'http://0x7f.1/',
    'http://127.0.0.1./',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0::1]/',
    'http://[::127.0.0.1]/',
    'http://[::a9fe:a9fe]/',
    'http://LOCALHOST./cb',
    'http://local%68ost/cb',
  ])('an allowlisted address in another spelling is refused: %s', async (url) => {
    expect(await guard.check(url)).toMatchObject({ ok: false });
  });

  it('admits the allowlisted hosts as written, and connects to the address checked', async () => {
    expect(await guard.check('http://127.0.0.1:9/cb')).toEqual({
      ok: true,
      address: '127.0.0.1',
      family: 4,
      allowlisted: true,
    });
    expect(await guard.check('http://localhost:9/cb')).toMatchObject({ ok: true, allowlisted: true });
    expect(await guard.check('http://[::1]:9/cb')).toMatchObject({
      ok: true,
      address: '::1',
      allowlisted: true,
    });
    expect(await guard.check('http://hooks.customer.test/cb')).toEqual({
      ok: true,
      address: '93.184.216.34',
      family: 4,
      allowlisted: false,
    });
  });

  it('refuses what is certainly bad, and says why', async () => {
    expect(await guard.check('ftp://hooks.customer.test/cb')).toEqual({
      ok: false,
      reason: 'must be http or https',
    });
    expect(await guard.check('http://user:pw@hooks.customer.test/')).toEqual({
      ok: false,
      reason: 'must not carry credentials',
    });
    expect(await guard.check('not a url')).toEqual({ ok: false, reason: 'is not a URL' });
    expect(await guard.check('http://169.254.169.254/latest/meta-data')).toMatchObject({ ok: false });
    expect(await guard.check('http://10.0.0.5/cb')).toMatchObject({ ok: false });
  });

  it('a host that does not resolve now is not known to be bad', async () => {
    expect(await guard.check('https://not-yet.customer.test/cb')).toEqual({
      ok: 'unresolved',
      reason: 'host not-yet.customer.test does not resolve to a public address',
    });
  });

  it('says of a name that resolves only inside the network what it says of one that does not resolve: which names resolve there is not told', async () => {
    const inside = await guard.check('http://inside.test/cb');
    const nowhere = await guard.check('http://nowhere.test/cb');
    expect(inside).toEqual({
      ok: 'unresolved',
      reason: 'host inside.test does not resolve to a public address',
    });
    expect(nowhere).toEqual({
      ok: 'unresolved',
      reason: 'host nowhere.test does not resolve to a public address',
    });
  });
});
