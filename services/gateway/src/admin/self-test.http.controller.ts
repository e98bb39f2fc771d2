import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { GetSelfTestReceipt, RunSelfTestProbe } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { OPERATOR_KEY_HEADER, OperatorKeyGuard } from './operator-key.guard';

export interface SelfTestResult {
  probe_id: string;
  /** session-service wrote the probe to its store and read it back. */
  store_round_trip: boolean;
  /** The durable event's sequence on the stream. */
  event_sequence: number;
  /** callback-dispatcher consumed the event (waited for up to 5 s). */
  event_consumed: boolean;
  elapsed_ms: number;
}

@ApiTags('operations')
@ApiHeader({ name: OPERATOR_KEY_HEADER, required: true })
@UseGuards(OperatorKeyGuard)
@Controller('admin/v1/self-test')
export class SelfTestHttpController {
  constructor(private readonly rpc: RpcClient) {}

  /** Proves the wiring: gateway → session-service → store → JetStream → callback-dispatcher. */
  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Run an end-to-end self-test through every layer' })
  async run(): Promise<SelfTestResult> {
    const started = Date.now();
    const probeId = randomUUID();
    const probe = await this.rpc.request(RunSelfTestProbe, { probeId });
    let consumed = false;
    const deadline = Date.now() + 5000;
    while (!consumed && Date.now() < deadline) {
      consumed = (await this.rpc.request(GetSelfTestReceipt, { probeId })).received;
      if (!consumed) await new Promise((r) => setTimeout(r, 50));
    }
    return {
      probe_id: probeId,
      store_round_trip: probe.readBack,
      event_sequence: probe.eventSequence,
      event_consumed: consumed,
      elapsed_ms: Date.now() - started,
    };
  }
}
