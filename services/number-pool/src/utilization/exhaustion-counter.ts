import { Injectable } from '@nestjs/common';

export const MINUTE_MS = 60_000;

export interface ExhaustionCount {
  accountId: string;
  subaccountId: string | null;
  minute: number;
  count: number;
}

/**
 * This replica's allocations refused for lack of numbers since its last flush, per owner and
 * minute: counted in memory (a refusal storm writes nothing), written by the rollup once a minute.
 */
@Injectable()
export class ExhaustionCounter {
  private pending = new Map<string, ExhaustionCount>();

  count(accountId: string, subaccountId: string | null, at: number, n = 1): void {
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    const key = `${accountId}|${subaccountId ?? ''}|${minute}`;
    const c = this.pending.get(key) ?? { accountId, subaccountId, minute, count: 0 };
    c.count += n;
    this.pending.set(key, c);
  }

  /** What was counted since the last take; counts not written are given back with `restore`. */
  take(): ExhaustionCount[] {
    const taken = [...this.pending.values()];
    this.pending = new Map();
    return taken;
  }

  restore(counts: readonly ExhaustionCount[]): void {
    for (const c of counts) this.count(c.accountId, c.subaccountId, c.minute, c.count);
  }
}
