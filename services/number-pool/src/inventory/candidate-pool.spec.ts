import type { NumberPoolConfig } from '../config/number-pool.config';
import { CandidatePool } from './candidate-pool';
import { originOf } from './phone-number';
import type { VirtualNumberRepository } from './virtual-number.repository';

const KS = `KS${'a'.repeat(32)}`;
const OTHER = `KS${'b'.repeat(32)}`;

/** An owner's numbers: which Service each serves and whether it is reserved. */
function poolOf(numbers: Array<[string, string | null, boolean?]>) {
  const repo = {
    activeForOwner: async () =>
      numbers.map(([n, service, reserved]) => ({
        _id: n,
        country: originOf(n)?.country ?? 'US',
        proxyServiceSid: service,
        isReserved: reserved ?? false,
      })),
  } as unknown as VirtualNumberRepository;
  return new CandidatePool(repo, { POOL_CACHE_TTL_MS: 0 } as NumberPoolConfig);
}

const choose = (pool: CandidatePool, party: string, proxy?: Parameters<CandidatePool['candidates']>[5]) =>
  pool.candidates('MA', null, originOf(party), true, ['voice'], proxy);
const proxyOf = (
  party: string,
  over: Partial<NonNullable<Parameters<CandidatePool['candidates']>[5]>> = {},
) => ({
  serviceSid: KS,
  pinned: null,
  areaCode: false,
  prefer: [],
  avoid: [],
  party,
  ...over,
});

describe('the numbers a session may be given', () => {
  const pool = poolOf([
    ['+14155550001', KS],
    ['+14155550002', KS, true],
    ['+16285550003', KS],
    ['+14155550004', OTHER],
    ['+14155550005', null],
  ]);

  it('gives a Plivo-API session any unreserved number of the owner, Service or not', async () => {
    expect(await choose(pool, '+14155559999')).toEqual([
      '+14155550001',
      '+16285550003',
      '+14155550004',
      '+14155550005',
    ]);
  });

  it('gives a Proxy participant its Service’s unreserved numbers only; a reserved one only when named, and then only it', async () => {
    expect(await choose(pool, '+14155559999', proxyOf('+14155559999'))).toEqual([
      '+14155550001',
      '+16285550003',
    ]);
    expect(await choose(pool, '+14155559999', proxyOf('+14155559999', { pinned: '+14155550002' }))).toEqual([
      '+14155550002',
    ]);
    // Named, but another Service's: nothing.
    expect(await choose(pool, '+14155559999', proxyOf('+14155559999', { pinned: '+14155550004' }))).toEqual(
      [],
    );
  });

  it('keeps to the participant’s NANP area code when the Service asks', async () => {
    expect(await choose(pool, '+16285559999', proxyOf('+16285559999', { areaCode: true }))).toEqual([
      '+16285550003',
    ]);
    expect(await choose(pool, '+12125559999', proxyOf('+12125559999', { areaCode: true }))).toEqual([]);
  });

  it('puts the sticky number first (prefer) or last (avoid)', async () => {
    const party = '+14155559999';
    expect(await choose(pool, party, proxyOf(party, { prefer: ['+16285550003'] }))).toEqual([
      '+16285550003',
      '+14155550001',
    ]);
    expect(await choose(pool, party, proxyOf(party, { avoid: ['+14155550001'] }))).toEqual([
      '+16285550003',
      '+14155550001',
    ]);
  });
});
