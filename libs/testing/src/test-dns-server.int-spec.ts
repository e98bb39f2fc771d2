import { hostResolver, HostNotResolved } from '@maskline/net-guard';
import { TestDnsServer } from './test-dns-server';

describe('the tests’ DNS server, through the resolver the services use', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await TestDnsServer.start();
  });
  afterAll(() => dns.stop());

  it('answers known names, says NXDOMAIN for the rest, and can change its mind', async () => {
    const resolve = hostResolver([dns.address]);
    dns.set('hooks.customer.test', ['127.0.0.1', '::1']);
    expect(await resolve('hooks.customer.test')).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    await expect(resolve('nowhere.customer.test')).rejects.toBeInstanceOf(HostNotResolved);
    dns.set('hooks.customer.test', []);
    await expect(resolve('hooks.customer.test')).rejects.toBeInstanceOf(HostNotResolved);
    expect(dns.asked).toContain('nowhere.customer.test');
  });

  it('gives up on a name whose server never answers, instead of waiting for ever', async () => {
    dns.ignore('silent.customer.test');
    await expect(hostResolver([dns.address])('silent.customer.test')).rejects.toBeInstanceOf(HostNotResolved);
  });
});
