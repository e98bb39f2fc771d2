import { Controller } from '@nestjs/common';
import {
  RunSelfTestProbe,
  SelfTestProbeRecorded,
  type RpcParsedRequestOf,
  type RpcReplyInputOf,
} from '@maskline/contracts';
import { EventPublisher, RpcHandler } from '@maskline/messaging';
import { SelfTestProbeRepository } from './self-test-probe.repository';

@Controller()
export class SelfTestNatsController {
  constructor(
    private readonly probes: SelfTestProbeRepository,
    private readonly events: EventPublisher,
  ) {}

  /** Writes the probe, reads it back from the store, and publishes a durable event about it. */
  @RpcHandler(RunSelfTestProbe)
  async run({
    probeId,
  }: RpcParsedRequestOf<typeof RunSelfTestProbe>): Promise<RpcReplyInputOf<typeof RunSelfTestProbe>> {
    const stored = await this.probes.record(probeId, new Date());
    const readBack = await this.probes.find(probeId);
    const storedAt = stored.storedAt.toISOString();
    const { seq } = await this.events.publish(
      SelfTestProbeRecorded,
      { probeId, storedAt },
      { msgId: `self-test:${probeId}` },
    );
    return { probeId, storedAt, readBack: readBack !== null, eventSequence: seq };
  }
}
