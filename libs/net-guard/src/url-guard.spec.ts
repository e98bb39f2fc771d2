import { isForbiddenAddress } from './address-policy';
import { UrlGuard } from './url-guard';

describe('callback URL guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
  ])('forbids %s', (address) => expect(isForbiddenAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946'])('allows %s', (address) =>
    expect(isForbiddenAddress(address)).toBe(false),
  );

  it('refuses private hosts unless allowlisted, and non-http schemes always', async () => {
    const guard = new UrlGuard(['localhost']);
    expect(await guard.check('http://169.254.169.254/latest/meta-data')).toMatchObject({ ok: false });
    expect(await guard.check('http://[::1]:8080/cb')).toMatchObject({ ok: false });
    expect(await guard.check('http://10.0.0.5/cb')).toMatchObject({ ok: false });
    expect(await guard.check('ftp://example.com/cb')).toMatchObject({
      ok: false,
      reason: 'must be http or https',
    });
    expect(await guard.check('http://user:pw@example.com/')).toMatchObject({ ok: false });
    expect(await guard.check('http://localhost:9/cb')).toMatchObject({ ok: true, allowlisted: true });
    expect(await guard.check('http://93.184.216.34/cb')).toMatchObject({
      ok: true,
      address: '93.184.216.34',
    });
  });
});
