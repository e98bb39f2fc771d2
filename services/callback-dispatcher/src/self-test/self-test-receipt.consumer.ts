import { Injectable } from '@nestjs/common';
import { SelfTestProbeRecorded } from '@maskline/contracts';
import { DurableConsumer, type EventMeta, type EventOf } from '@maskline/messaging';
import { SelfTestReceiptRepository } from './self-test-receipt.repository';

const EVENTS = [SelfTestProbeRecorded] as const;

@Injectable()
export class SelfTestReceiptConsumer {
  constructor(private readonly receipts: SelfTestReceiptRepository) {}

  /** Acked only after the receipt is stored: a crash before that means redelivery, not loss. */
  @DurableConsumer({ durable: 'callback-dispatcher-self-test', events: EVENTS })
  async onProbeRecorded(event: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    await this.receipts.record(event.payload.probeId, meta.streamSequence);
  }
}
