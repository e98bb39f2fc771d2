import { Injectable } from '@nestjs/common';
import { KeyValueStores } from '@maskline/messaging';
import { PartyRedaction } from '../privacy/party-redaction';

/** The KV bucket of each participant's last proxy number per Service (what prefer/avoid-sticky read). */
export const PROXY_STICKY_BUCKET = 'proxy-sticky-numbers';

/**
 * How long a participant's last proxy number is remembered: stickiness is for people who come
 * back (a rider's next trip), and a bound keeps the bucket the size of recent users.
 */
const REMEMBERED_MS = 30 * 86_400_000;
/** Bounded by its share of NATS as well, forgetting those remembered longest ago first (a participant is remembered when added). */
const STICKY_BUCKET_OPTIONS = { ttlMs: REMEMBERED_MS, storageShare: 'proxyStickyNumbers' } as const;

/**
 * The proxy number each identifier last had in a Service, in NATS KV: one read per participant
 * added, the same cost at any size. Keyed by a keyed digest of the identifier (never the number
 * in clear); the value is the proxy number, a number of the account's pool.
 */
@Injectable()
export class ProxyStickyNumbers {
  constructor(
    private readonly kv: KeyValueStores,
    private readonly redaction: PartyRedaction,
  ) {
    kv.declare(PROXY_STICKY_BUCKET, STICKY_BUCKET_OPTIONS);
  }

  async previous(accountId: string, serviceSid: string, identifier: string): Promise<string | null> {
    const entry = await (await this.bucket()).get(this.key(accountId, serviceSid, identifier));
    if (!entry || entry.operation !== 'PUT') return null;
    return entry.string() || null;
  }

  async remember(accountId: string, serviceSid: string, identifier: string, number: string): Promise<void> {
    await (await this.bucket()).put(this.key(accountId, serviceSid, identifier), number);
  }

  private bucket() {
    return this.kv.bucket(PROXY_STICKY_BUCKET, STICKY_BUCKET_OPTIONS);
  }

  private key(accountId: string, serviceSid: string, identifier: string): string {
    return `${serviceSid}.${this.redaction.redact(accountId, identifier).replace('redacted:', '')}`;
  }
}
