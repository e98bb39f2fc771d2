import { Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes, GetNumberRouting, type RpcReplyOf } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';

type Routing = RpcReplyOf<typeof GetNumberRouting>;
const TTL_MS = 30_000;
const MISS_TTL_MS = 5_000;

/** A number's owner and provider credentials, cached briefly (webhooks come in bursts per call). */
@Injectable()
export class NumberRoutingCache {
  private readonly cache = new Map<string, { value: Routing | null; until: number }>();

  constructor(private readonly rpc: RpcClient) {}

  async get(number: string): Promise<Routing | null> {
    const hit = this.cache.get(number);
    if (hit && hit.until > Date.now()) return hit.value;
    let value: Routing | null;
    try {
      value = await this.rpc.request(GetNumberRouting, { number }, { timeoutMs: 800 });
    } catch (err) {
      if (!(err instanceof CodedError) || err.code !== ErrorCodes.NOT_FOUND) throw err;
      value = null;
    }
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(number, { value, until: Date.now() + (value ? TTL_MS : MISS_TTL_MS) });
    return value;
  }
}
