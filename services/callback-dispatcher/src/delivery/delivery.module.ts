import { CallbackRetentionSweeper } from '../privacy/callback-retention-sweeper';
import { CallbackPartyRedaction } from '../privacy/callback-party-redaction';
import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CallbackAttempts } from '../records/callback-attempts.repository';
import { DeadLetters } from '../records/dead-letters.repository';
import {
  CallbackAttemptDocument,
  CallbackAttemptSchema,
  DeadLetterDocument,
  DeadLetterSchema,
} from '../records/callback-records.schema';
import { CallbacksNatsController } from '../records/callbacks.nats.controller';
import { CallbackAttempt } from './callback-attempt';
import { CallbackDeliverer } from './callback-deliverer';
import { CallbackHostSlots } from './callback-host-slots';
import { StoredInteractions } from '@maskline/messaging';
import { CallbackEventsConsumer } from './callback-events.consumer';
import { RecordingUrlOpener } from '../events/recording-url-opener';
import { CallbackSigner } from './callback-signer';
import { CallbackTargets } from './callback-targets';
import { StoredInteractionGate } from './stored-interaction-gate';
import { DeliveryLedger } from './delivery-ledger';
import { LostRetrySweeper } from './lost-retry-sweeper';
import { LostRetryWatch } from './lost-retry-watch';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: CallbackAttemptDocument.name, schema: CallbackAttemptSchema },
      { name: DeadLetterDocument.name, schema: DeadLetterSchema },
    ]),
  ],
  controllers: [CallbacksNatsController],
  providers: [
    CallbackAttempts,
    DeadLetters,
    CallbackPartyRedaction,
    CallbackSigner,
    CallbackTargets,
    DeliveryLedger,
    CallbackAttempt,
    CallbackDeliverer,
    CallbackHostSlots,
    CallbackEventsConsumer,
    RecordingUrlOpener,
    StoredInteractions,
    StoredInteractionGate,
    CallbackRetentionSweeper,
    LostRetryWatch,
    LostRetrySweeper,
  ],
})
export class DeliveryModule {}
