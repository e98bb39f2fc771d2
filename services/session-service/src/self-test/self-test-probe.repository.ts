import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { SelfTestProbe } from './self-test-probe.schema';

/** Self-test probes are operator data, not account data: keyed by probe id alone. */
@Injectable()
export class SelfTestProbeRepository {
  constructor(@InjectModel(SelfTestProbe.name) private readonly model: Model<SelfTestProbe>) {}

  /** Inserts the probe; a repeated id (a retried request) keeps the first one. */
  async record(probeId: string, storedAt: Date): Promise<SelfTestProbe> {
    try {
      await this.model.create({ _id: probeId, storedAt });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const stored = await this.find(probeId);
    if (!stored) throw new Error(`probe ${probeId} not found right after insert`);
    return stored;
  }

  async find(probeId: string): Promise<SelfTestProbe | null> {
    return (await this.model.findById(probeId).lean().exec()) as SelfTestProbe | null;
  }
}
