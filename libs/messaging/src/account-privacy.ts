import { Injectable } from '@nestjs/common';
import { ACCOUNT_PRIVACY_BUCKET, accountPrivacySchema } from '@maskline/contracts';
import { KeyValueStores, kvDecode, kvEncode } from './key-value-stores';

/** The accounts that opted out of party-number redaction (see `account-privacy.ts` in contracts). */
@Injectable()
export class AccountPrivacy {
  constructor(private readonly kv: KeyValueStores) {}

  private bucket() {
    return this.kv.bucket(ACCOUNT_PRIVACY_BUCKET);
  }

  /** The main accounts whose records keep their parties' numbers. */
  async accountsKeepingNumbers(): Promise<string[]> {
    const kv = await this.bucket();
    // Every key first: nats.js ends a key listing once it has delivered its batch, dropping keys
    // that arrive while the loop awaits something else (here a read), which left every keeper but
    // the first to be redacted.
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    const out: string[] = [];
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry?.operation === 'PUT' && accountPrivacySchema.safeParse(kvDecode(entry.value)).success) {
        out.push(key);
      }
    }
    return out;
  }

  async keepsNumbers(accountId: string): Promise<boolean> {
    const entry = await (await this.bucket()).get(accountId);
    return entry?.operation === 'PUT' && accountPrivacySchema.safeParse(kvDecode(entry.value)).success;
  }

  /** The operator's choice for a main account (the gateway alone writes it). */
  async setKeepNumbers(accountId: string, keep: boolean): Promise<void> {
    const kv = await this.bucket();
    if (keep) await kv.put(accountId, kvEncode(accountPrivacySchema.parse({ keepPartyNumbers: true })));
    else await kv.purge(accountId);
  }
}
