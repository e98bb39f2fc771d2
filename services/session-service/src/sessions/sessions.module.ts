import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { ExpiryClaims } from '../expiry/expiry-claims';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { SessionExpirer } from '../expiry/session-expirer';
import { IdempotencyKeyDocument, IdempotencyKeySchema } from '../idempotency/idempotency-key.schema';
import { FinishedIdempotencyKeys } from '../idempotency/finished-idempotency-keys';
import { IdempotencyKeys } from '../idempotency/idempotency-keys';
import { CallEventDocument, CallEventSchema } from '../interactions/call-event.schema';
import { CallEventRepository } from '../interactions/call-event.repository';
import { StoredInteractions } from '@maskline/messaging';
import { CallProgressConsumer } from '../interactions/call-progress.consumer';
import { MessageOutcomeConsumer } from '../interactions/message-outcome.consumer';
import { NumberOwnerChangeConsumer } from './number-owner-change.consumer';
import { OrphanReaper } from '../saga/orphan-reaper';
import { CreationVerdicts } from '../saga/creation-verdicts';
import { UnannouncedUpdateDocument, UnannouncedUpdateSchema } from './unannounced-update.schema';
import { UnannouncedUpdates } from './unannounced-updates.repository';
import { UnannouncedUpdateSweeper } from './unannounced-update-sweeper';
import { SagaStepDocument, SagaStepSchema } from '../saga/saga-step.schema';
import { SagaStepsRepository } from '../saga/saga-steps.repository';
import { AllocationFateDocument, AllocationFateSchema } from '../saga/allocation-fate.schema';
import { AllocationFates } from '../saga/allocation-fates.repository';
import { SAGA_CHECKPOINTS, noCheckpoints } from '../saga/saga-checkpoints';
import { SessionCreator } from '../saga/session-creator';
import { CreationAllowance } from '../saga/creation-allowance';
import { faultInjectingCheckpoints } from '../saga/testing/fault-injecting-checkpoints';
import { PartyRedaction } from '../privacy/party-redaction';
import { RetentionSweeper } from '../privacy/retention-sweeper';
import { RetiredCollections } from '../privacy/retired-collections';
import { ENDED_SESSION_MODEL, EndedSessionSchema, SessionDocument, SessionSchema } from './session.schema';
import { EndedSessionParties } from './ended-session-parties.repository';
import { EndedSessionPartiesDocument, EndedSessionPartiesSchema } from './ended-session-parties.schema';
import { EndedSessionRepository } from './ended-session.repository';
import { EndedSessionTallies } from './ended-session-tallies.repository';
import { EndedSessionTallyDocument, EndedSessionTallySchema } from './ended-session-tally.schema';
import { LongLivedSessionDocument, LongLivedSessionSchema } from './long-lived-session.schema';
import { LongLivedSessions } from './long-lived-sessions.repository';
import { SessionRepository } from './session.repository';
import { LiveSessionQuota } from './live-session-quota';
import { LiveSessionRecount } from './live-session-recount';
import { SessionViews } from './session-views';
import { SessionAnnouncer } from './session-announcer';
import { RoutingNatsController } from './routing.nats.controller';
import { SessionsNatsController } from './sessions.nats.controller';
import { SessionsService } from './sessions.service';
import { SessionWriteTurns } from './session-write-turns';
import { ProxyServicesModule } from '../proxy-services/proxy-services.module';
import { ProxyParticipantDocument, ProxyParticipantSchema } from '../proxy-sessions/proxy-participant.schema';
import { ProxyParticipantRepository } from '../proxy-sessions/proxy-participant.repository';
import { ProxyParticipantsService } from '../proxy-sessions/proxy-participants.service';
import {
  ProxySessionNameDocument,
  ProxySessionNameSchema,
} from '../proxy-sessions/proxy-session-name.schema';
import { ProxySessionNameRepository } from '../proxy-sessions/proxy-session-name.repository';
import { ProxySessionViews } from '../proxy-sessions/proxy-session-views';
import { ProxySessionsNatsController } from '../proxy-sessions/proxy-sessions.nats.controller';
import { ProxySessionsService } from '../proxy-sessions/proxy-sessions.service';
import { ProxyStickyNumbers } from '../proxy-sessions/proxy-sticky-numbers';
import { ProxyInteractionClock } from '../proxy-sessions/proxy-interaction-clock';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: SessionDocument.name, schema: SessionSchema },
      { name: ENDED_SESSION_MODEL, schema: EndedSessionSchema },
      { name: EndedSessionPartiesDocument.name, schema: EndedSessionPartiesSchema },
      { name: LongLivedSessionDocument.name, schema: LongLivedSessionSchema },
      { name: EndedSessionTallyDocument.name, schema: EndedSessionTallySchema },
      { name: SagaStepDocument.name, schema: SagaStepSchema },
      { name: IdempotencyKeyDocument.name, schema: IdempotencyKeySchema },
      { name: CallEventDocument.name, schema: CallEventSchema },
      { name: ProxyParticipantDocument.name, schema: ProxyParticipantSchema },
      { name: ProxySessionNameDocument.name, schema: ProxySessionNameSchema },
      { name: AllocationFateDocument.name, schema: AllocationFateSchema },
      { name: UnannouncedUpdateDocument.name, schema: UnannouncedUpdateSchema },
    ]),
    ProxyServicesModule,
  ],
  controllers: [SessionsNatsController, RoutingNatsController, ProxySessionsNatsController],
  providers: [
    SessionRepository,
    EndedSessionRepository,
    EndedSessionParties,
    LongLivedSessions,
    EndedSessionTallies,
    SagaStepsRepository,
    AllocationFates,
    IdempotencyKeys,
    FinishedIdempotencyKeys,
    CallEventRepository,
    SessionViews,
    SessionAnnouncer,
    SessionCreator,
    {
      provide: SAGA_CHECKPOINTS,
      inject: [SESSION_SERVICE_CONFIG, LOGGER],
      useFactory: (config: SessionServiceConfig, logger: Logger) =>
        config.SAGA_FAULT === 'none' ? noCheckpoints : faultInjectingCheckpoints(config.SAGA_FAULT, logger),
    },
    SessionExpirer,
    ExpiryClaims,
    SessionsService,
    SessionWriteTurns,
    ExpiryScheduler,
    OrphanReaper,
    CreationVerdicts,
    CreationAllowance,
    UnannouncedUpdates,
    UnannouncedUpdateSweeper,
    CallProgressConsumer,
    MessageOutcomeConsumer,
    NumberOwnerChangeConsumer,
    LiveSessionQuota,
    LiveSessionRecount,
    StoredInteractions,
    PartyRedaction,
    RetentionSweeper,
    RetiredCollections,
    // Twilio Proxy's Sessions, on this module's engine.
    ProxySessionsService,
    ProxyParticipantsService,
    ProxyParticipantRepository,
    ProxySessionNameRepository,
    ProxySessionViews,
    ProxyStickyNumbers,
    ProxyInteractionClock,
  ],
})
export class SessionsModule {}
