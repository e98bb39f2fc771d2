import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { NATS_CONNECTION } from '@maskline/messaging';

export interface ConsumerLag {
  stream: string;
  consumer: string;
  /** Messages not yet delivered to the consumer. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  redelivered: number;
}

/** The most consumers one answer lists (there are a few per service). */
const CONSUMERS_MAX = 200;

/** How far behind each durable JetStream consumer is, read from the server (no store involved). */
@Injectable()
export class ConsumerLagReader {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async read(): Promise<ConsumerLag[]> {
    const jsm = await this.nc.jetstreamManager();
    const out: ConsumerLag[] = [];
    for await (const stream of jsm.streams.list()) {
      // Key-value buckets are streams too; they have no durable consumers of ours.
      if (stream.config.name.startsWith('KV_')) continue;
      for await (const c of jsm.consumers.list(stream.config.name)) {
        if (!c.config.durable_name) continue;
        out.push({
          stream: stream.config.name,
          consumer: c.name,
          pending: c.num_pending,
          ackPending: c.num_ack_pending,
          redelivered: c.num_redelivered,
        });
        if (out.length >= CONSUMERS_MAX) return mostBehindFirst(out);
      }
    }
    return mostBehindFirst(out);
  }
}

function mostBehindFirst(lags: ConsumerLag[]): ConsumerLag[] {
  return lags.sort((a, b) => b.pending + b.ackPending - (a.pending + a.ackPending));
}
