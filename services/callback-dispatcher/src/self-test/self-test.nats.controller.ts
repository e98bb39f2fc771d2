import { Controller } from '@nestjs/common';
import { GetSelfTestReceipt, type RpcParsedRequestOf, type RpcReplyInputOf } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { SelfTestReceiptRepository } from './self-test-receipt.repository';

@Controller()
export class SelfTestNatsController {
  constructor(private readonly receipts: SelfTestReceiptRepository) {}

  @RpcHandler(GetSelfTestReceipt)
  async receipt({
    probeId,
  }: RpcParsedRequestOf<typeof GetSelfTestReceipt>): Promise<RpcReplyInputOf<typeof GetSelfTestReceipt>> {
    const found = await this.receipts.find(probeId);
    if (!found) return { probeId, received: false };
    return {
      probeId,
      received: true,
      receivedAt: found.receivedAt.toISOString(),
      streamSequence: found.streamSequence,
    };
  }
}
