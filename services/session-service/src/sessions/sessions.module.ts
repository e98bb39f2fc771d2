import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { ExpiryClaimDocument, ExpiryClaimSchema } from '../expiry/expiry-claim.schema';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { SessionExpirer } from '../expiry/session-expirer';
import { IdempotencyKeyDocument, IdempotencyKeySchema } from '../idempotency/idempotency-key.schema';
import { IdempotencyKeys } from '../idempotency/idempotency-keys';
import { CallEventDocument, CallEventSchema } from '../interactions/call-event.schema';
import { CallEventRepository } from '../interactions/call-event.repository';
import { CallProgressConsumer } from '../interactions/call-progress.consumer';
import { MessageOutcomeConsumer } from '../interactions/message-outcome.consumer';
import { OrphanReaper } from '../saga/orphan-reaper';
import { SagaStepDocument, SagaStepSchema } from '../saga/saga-step.schema';
import { SagaStepsRepository } from '../saga/saga-steps.repository';
import { SAGA_CHECKPOINTS, noCheckpoints } from '../saga/saga-checkpoints';
import { SessionCreator } from '../saga/session-creator';
import { faultInjectingCheckpoints } from '../saga/testing/fault-injecting-checkpoints';
import { PartyRedaction } from '../privacy/party-redaction';
import { RetentionSweeper } from '../privacy/retention-sweeper';
import { ENDED_SESSION_MODEL, EndedSessionSchema, SessionDocument, SessionSchema } from './session.schema';
import { EndedSessionRepository } from './ended-session.repository';
import { SessionRepository } from './session.repository';
import { SessionViews } from './session-views';
import { RoutingNatsController } from './routing.nats.controller';
import { SessionsNatsController } from './sessions.nats.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: SessionDocument.name, schema: SessionSchema },
      { name: ENDED_SESSION_MODEL, schema: EndedSessionSchema },
      { name: SagaStepDocument.name, schema: SagaStepSchema },
      { name: IdempotencyKeyDocument.name, schema: IdempotencyKeySchema },
      { name: ExpiryClaimDocument.name, schema: ExpiryClaimSchema },
      { name: CallEventDocument.name, schema: CallEventSchema },
    ]),
  ],
  controllers: [SessionsNatsController, RoutingNatsController],
  providers: [
    SessionRepository,
    EndedSessionRepository,
    SagaStepsRepository,
    IdempotencyKeys,
    CallEventRepository,
    SessionViews,
    SessionCreator,
    {
      provide: SAGA_CHECKPOINTS,
      inject: [SESSION_SERVICE_CONFIG, LOGGER],
      useFactory: (config: SessionServiceConfig, logger: Logger) =>
        config.SAGA_FAULT === 'none' ? noCheckpoints : faultInjectingCheckpoints(config.SAGA_FAULT, logger),
    },
    SessionExpirer,
    SessionsService,
    ExpiryScheduler,
    OrphanReaper,
    CallProgressConsumer,
    MessageOutcomeConsumer,
    PartyRedaction,
    RetentionSweeper,
  ],
})
export class SessionsModule {}
