import { NATS_STORAGE_SHARES } from '@maskline/contracts';
import { kvReplicasForSuite } from '@maskline/testing';
import type { GatewayConfig } from '../config/gateway.config';
import { KEY_REUSES_MAX, ReplayGuard } from './replay-guard';

describe('the webhook replay memory, bounded (real NATS)', () => {
  const replicas = kvReplicasForSuite('gateway');

  it('keeps answering a flood of one tenant’s own signed webhooks past its bound, forgetting the oldest first, and still refuses a recent copy on every replica', async () => {
    const config = { CALL_CONTEXT_TTL_SECONDS: 93_600 } as GatewayConfig;
    // NATS_STORAGE_BYTES set so that the memory's share of it is 64 KiB.
    const storageBytes = (64 * 1024 * 100) / NATS_STORAGE_SHARES.webhookReplay;
    const [one, two] = [
      new ReplayGuard((await replicas.replica({ storageBytes })).kv, config),
      new ReplayGuard((await replicas.replica({ storageBytes })).kv, config),
    ];
    // A tenant signing nonces of its own at will: several times what the memory holds, none refused
    // (a memory that refused writes when full answered every tenant's webhooks with 503s).
    const nonces = Array.from({ length: 1500 }, (_, i) => `plivo|+14155550100|nonce-${i}`);
    for (const [i, nonce] of nonces.entries()) {
      await expect((i % 2 ? one : two).firstTime(nonce)).resolves.toBe(true);
    }
    // A copy of a recent one is refused, whichever replica it reaches.
    await expect(one.firstTime(nonces.at(-1)!)).resolves.toBe(false);
    await expect(two.firstTime(nonces.at(-2)!)).resolves.toBe(false);
    // The oldest were forgotten to make room: its window is shorter under the flood, not gone.
    await expect(one.firstTime(nonces[0])).resolves.toBe(true);
  });

  it('takes a signed request again for the same message (a provider’s retry), on any replica, and refuses it for another', async () => {
    const config = { CALL_CONTEXT_TTL_SECONDS: 93_600 } as GatewayConfig;
    const [one, two] = [
      new ReplayGuard((await replicas.replica()).kv, config),
      new ReplayGuard((await replicas.replica()).kv, config),
    ];
    const request = 'twilio:AC1|twilio-signature:c2lnbmF0dXJl';
    await expect(one.firstFor(request, 'SM1')).resolves.toBe(true);
    await expect(two.firstFor(request, 'SM1')).resolves.toBe(true);
    await expect(one.firstFor(request, 'SM1')).resolves.toBe(true);
    await expect(two.firstFor(request, 'SM2')).resolves.toBe(false);
    await expect(one.firstFor(request, 'SM2')).resolves.toBe(false);
    // Another signed request is its own.
    await expect(two.firstFor(`${request}x`, 'SM2')).resolves.toBe(true);
  });

  it('binds an Idempotency-Key to what its first request said, on any replica and across a keyring rotation, and after a few reuses for something else refuses every request with it', async () => {
    const config = { CALL_CONTEXT_TTL_SECONDS: 93_600 } as GatewayConfig;
    const [one, two] = [
      new ReplayGuard((await replicas.replica()).kv, config),
      new ReplayGuard((await replicas.replica()).kv, config),
    ];
    // Digests of one request under the old key alone (a replica not yet rotated) and under the new and
    // the old (one rotated): they share the old key's.
    const key = `api-message:api-${Date.now()}`;
    await expect(two.bindRequest(key, ['new:A', 'old:A'])).resolves.toBe('same');
    await expect(one.bindRequest(key, ['old:A'])).resolves.toBe('same');
    await expect(two.bindRequest(key, ['new:A', 'old:A'])).resolves.toBe('same');
    // Another request under the key: refused, and counted.
    await expect(one.bindRequest(key, ['old:B'])).resolves.toBe('other');
    // The same other request again (a retry, a refusal whose answer was lost): refused, not counted again.
    await expect(two.bindRequest(key, ['new:B', 'old:B'])).resolves.toBe('other');
    await expect(one.bindRequest(key, ['old:B'])).resolves.toBe('other');
    await expect(two.bindRequest(key, ['new:A', 'old:A'])).resolves.toBe('same');
    // Reused for something else as often as it may be: every request refused, the first's retry too.
    for (let i = 1; i < KEY_REUSES_MAX; i++) {
      await expect((i % 2 ? two : one).bindRequest(key, [`old:C${i}`])).resolves.toBe('other');
    }
    await expect(one.bindRequest(key, ['old:A'])).resolves.toBe('spent');
    await expect(two.bindRequest(key, ['new:A', 'old:A'])).resolves.toBe('spent');
    await expect(two.bindRequest(key, ['old:Z'])).resolves.toBe('spent');
    // Another key is its own; two first requests racing for it: one binds it, the other matches.
    const fresh = `${key}-2`;
    await expect(
      Promise.all([one.bindRequest(fresh, ['old:D']), two.bindRequest(fresh, ['new:D', 'old:D'])]),
    ).resolves.toEqual(['same', 'same']);
    // Two reuses racing are both refused and both counted (compare-and-set, no count lost).
    await expect(
      Promise.all([one.bindRequest(fresh, ['old:E']), two.bindRequest(fresh, ['old:F'])]),
    ).resolves.toEqual(['other', 'other']);
    for (let i = 2; i < KEY_REUSES_MAX; i++) {
      await expect(one.bindRequest(fresh, [`old:G${i}`])).resolves.toBe('other');
    }
    await expect(one.bindRequest(fresh, ['old:D'])).resolves.toBe('spent');
  });
});
