import fc from 'fast-check';
import { randomBytes, randomUUID } from 'node:crypto';
import { CodedError, PinErrorCodes } from '@maskline/contracts';
import { parseKeyring } from '@maskline/crypto';
import { InMemoryPinRegistryStore } from './in-memory-pin-registry.store';
import { LIVE } from './pin-registration';
import { PinRegistry } from './pin-registry';

const V1 = '+14155550100';
const V2 = '+14155550101';
const ACCOUNT = 'MAAAAAAAAAAAAAAAAAA1';

function setup(densityCap = 0.01) {
  const store = new InMemoryPinRegistryStore();
  const registry = new PinRegistry(store, {
    digestKey: randomBytes(32),
    encryptionKeys: parseKeyring(`k1:${randomBytes(32).toString('base64')}`),
    densityCap,
    maxSlotTries: 1000,
  });
  const register = (
    virtualNumber: string,
    pins: Parameters<PinRegistry['register']>[0]['pins'],
    sessionId = randomUUID(),
  ) => registry.register({ accountId: ACCOUNT, sessionId, virtualNumber, pins });
  return { store, registry, register };
}

describe('PinRegistry', () => {
  it('stores no PIN in clear and reveals them again', async () => {
    const { store, registry, register } = setup();
    const sessionId = randomUUID();
    const pins = await register(V1, { mode: 'supplied', first: '48291735', second: '90817263' }, sessionId);
    expect(pins).toEqual({ first: '48291735', second: '90817263' });
    const dump = JSON.stringify([...store.rows.values()]);
    expect(dump).not.toContain('48291735');
    expect(dump).not.toContain('90817263');
    expect(await registry.revealSession(sessionId, ACCOUNT)).toEqual(pins);
  });

  it('resolves a PIN on a number to exactly its session and party, and not on another number', async () => {
    const { registry, register } = setup();
    const sessionId = randomUUID();
    await register(V1, { mode: 'supplied', first: '4829', second: '7316' }, sessionId);
    expect(await registry.find(ACCOUNT, V1, '7316')).toMatchObject({ sessionId, party: 'second' });
    expect(await registry.find(ACCOUNT, V2, '7316')).toBeNull();
    expect(await registry.find(ACCOUNT, V1, '0000')).toBeNull();
  });

  it("keeps one account's PINs from every other account: find, reveal and release see nothing", async () => {
    const { registry, register } = setup();
    const OTHER = 'MBBBBBBBBBBBBBBBBBB2';
    const sessionId = randomUUID();
    const pins = await register(V1, { mode: 'supplied', first: '4829', second: '7316' }, sessionId);
    expect(await registry.find(OTHER, V1, '7316')).toBeNull();
    await expect(registry.revealSession(sessionId, OTHER)).rejects.toMatchObject({
      code: expect.any(String),
    });
    expect(await registry.revealSessions([sessionId], OTHER)).toEqual({});
    expect(await registry.release(sessionId, OTHER)).toBe(0);
    expect(await registry.revealSession(sessionId, ACCOUNT)).toEqual(pins);
  });

  it('refuses a supplied PIN already live on the number, and frees it on release', async () => {
    const { registry, register } = setup();
    const first = randomUUID();
    await register(V1, { mode: 'supplied', first: '4829', second: '7316' }, first);
    await expect(register(V1, { mode: 'supplied', first: '5555', second: '4829' })).rejects.toMatchObject({
      code: PinErrorCodes.CONFLICT,
      field: 'second_party_pin',
    });
    await expect(register(V2, { mode: 'supplied', first: '5555', second: '4829' })).resolves.toBeDefined();
    await registry.release(first, ACCOUNT);
    await expect(register(V1, { mode: 'supplied', first: '5555', second: '4829' })).resolves.toBeDefined();
  });

  it('keeps the density cap: at most cap × 10^L live PINs of length L per number', async () => {
    const { register, registry } = setup(0.001); // 10 four-digit PINs per number
    const sessions: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = randomUUID();
      sessions.push(id);
      await register(V1, { mode: 'generated', length: 4 }, id);
    }
    await expect(register(V1, { mode: 'generated', length: 4 })).rejects.toMatchObject({
      code: PinErrorCodes.CAPACITY,
    });
    await expect(register(V1, { mode: 'generated', length: 5 })).resolves.toBeDefined();
    await registry.release(sessions[0], ACCOUNT);
    await expect(register(V1, { mode: 'generated', length: 4 })).resolves.toBeDefined();
  });

  it('is idempotent per session', async () => {
    const { register } = setup();
    const sessionId = randomUUID();
    const a = await register(V1, { mode: 'generated', length: 6 }, sessionId);
    const b = await register(V1, { mode: 'generated', length: 6 }, sessionId);
    expect(b).toEqual(a);
  });

  it('uniqueness and the density cap hold under any register/release sequence (property)', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('supplied' as const),
        v: fc.constantFrom(V1, V2),
        first: fc.integer({ min: 0, max: 30 }),
        second: fc.integer({ min: 0, max: 30 }),
      }),
      fc.record({ kind: fc.constant('generated' as const), v: fc.constantFrom(V1, V2) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat(1000) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const { store, registry, register } = setup(0.0008); // 8 four-digit PINs per number
        const live: string[] = [];
        for (const o of ops) {
          if (o.kind === 'release') {
            if (live.length > 0) await registry.release(live.splice(o.pick % live.length, 1)[0], ACCOUNT);
            continue;
          }
          const sessionId = randomUUID();
          const pins =
            o.kind === 'supplied'
              ? { mode: 'supplied' as const, first: String(4000 + o.first), second: String(4000 + o.second) }
              : { mode: 'generated' as const, length: 4 };
          if (pins.mode === 'supplied' && pins.first === pins.second) continue;
          try {
            await register(o.v, pins, sessionId);
            live.push(sessionId);
          } catch (err) {
            expect([PinErrorCodes.CAPACITY, PinErrorCodes.CONFLICT]).toContain((err as CodedError).code);
          }
          const rows = [...store.rows.values()].filter((r) => r.liveMarker === LIVE);
          const digests = rows.map((r) => r.digest);
          expect(new Set(digests).size).toBe(digests.length);
          for (const v of [V1, V2]) {
            expect(rows.filter((r) => r.virtualNumber === v && r.pinLength === 4).length).toBeLessThanOrEqual(
              8,
            );
          }
          expect(rows.length).toBe(live.length * 2);
        }
      }),
      { numRuns: 100 },
    );
  });
});
