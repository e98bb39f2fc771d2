import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBasicAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import {
  CodedError,
  CreateSession,
  ExpireSession,
  GetSession,
  ListSessions,
  UpdateSession,
  uuidSchema,
  IDEMPOTENCY_KEY_HEADER,
} from '@maskline/contracts';
import { parsePlivoFilterTime } from '@maskline/plivo-wire';
import { RpcClient } from '@maskline/messaging';
import { WRITE_CALL } from '../http/write-call';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ScopeResolver } from '../auth/scope-resolver';
import { pageOf } from '../http/pagination.query';
import { plivoMeta } from '../http/plivo-pagination';
import { CallbackUrlChecker } from './callback-url-checker';
import { normalizeParty } from './normalize-party';
import { CreateSessionDto } from './create-session.dto';
import { ListSessionsQuery, rangeOf } from './list-sessions.query';
import { callbackUrlsOf, changesFromUpdate, settingsFromCreate } from './session-settings.mapper';
import { UpdateSessionDto } from './update-session.dto';
import { plivoSession, plivoSessionListObject } from './session.view';
import { RecordingUrls, type RecordingUrlOf } from './recording-urls';
import { idempotencyKeyOf, requestDigestOf } from '../http/idempotency-key';

const SESSION_PATHS = ['v1/Account/:auth_id/Masking/Session', 'v1/Account/:auth_id/Masking/Session/'];

/** Plivo's Masking Session API. */

@ApiTags('masking sessions')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller(SESSION_PATHS)
export class SessionsHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly scopes: ScopeResolver,
    private readonly callbackUrls: CallbackUrlChecker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    recordingUrls: RecordingUrls,
  ) {
    this.recordingUrlOf = (s, i) => recordingUrls.of(s, i);
  }

  /** Opens the sealed recording URLs of a session's calls for its view. */
  private readonly recordingUrlOf: RecordingUrlOf;

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a session' })
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: false,
    description: 'Same key and body: same session',
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateSessionDto,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey?: string,
  ) {
    const scope = await this.scopes.resolve(principal, body.subaccount ?? body.sub_account);
    const settings = settingsFromCreate(body);
    const pinOn = settings.isPinAuthenticationRequired;
    await this.callbackUrls.check(callbackUrlsOf(settings));
    const key = idempotencyKeyOf(idempotencyKey);
    const session = await this.rpc.request(
      CreateSession,
      {
        scope,
        firstParty: body.first_party ? normalizeParty('first_party', body.first_party) : null,
        secondParty: body.second_party ? normalizeParty('second_party', body.second_party) : null,
        settings,
        firstPartyPin: pinOn && !settings.generatePin ? (body.first_party_pin ?? null) : null,
        secondPartyPin: pinOn && !settings.generatePin ? (body.second_party_pin ?? null) : null,
        idempotency: key
          ? { key, requestHash: requestDigestOf(this.config.ACCOUNT_TOKEN_PEPPER, body) }
          : null,
      },
      WRITE_CALL,
    );
    return {
      api_id: currentCorrelationId(),
      session_uuid: session.sessionId,
      virtual_number: session.virtualNumber,
      message: 'Session created',
      session: plivoSession(session, this.recordingUrlOf),
    };
  }

  @Get()
  @ApiOperation({ summary: 'List sessions (newest first; the last 7 days unless created_time is given)' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('auth_id') authId: string,
    @Query() query: ListSessionsQuery,
  ) {
    const scope = await this.scopes.resolve(principal, query.subaccount);
    const { limit, offset } = pageOf(query);
    const times = (filter: 'created_time' | 'expiry_time') =>
      Object.fromEntries(
        Object.entries(rangeOf(query, filter)).map(([bound, v]) => [bound, parsePlivoFilterTime(String(v))]),
      );
    const page = await this.rpc.request(ListSessions, {
      scope,
      firstParty: query.first_party ? normalizeParty('first_party', query.first_party) : undefined,
      secondParty: query.second_party ? normalizeParty('second_party', query.second_party) : undefined,
      party: query.party ? normalizeParty('party', query.party) : undefined,
      virtualNumber: query.virtual_number
        ? normalizeParty('virtual_number', query.virtual_number)
        : undefined,
      status: query.status ?? 'all',
      createdTime: times('created_time'),
      expiryTime: times('expiry_time'),
      durationSeconds: rangeOf(query, 'duration') as Record<string, number>,
      limit,
      offset,
    });
    const { limit: _l, offset: _o, ...filters } = query as Record<string, string | number | undefined>;
    return {
      api_id: currentCorrelationId(),
      response: {
        meta: plivoMeta(`/v1/Account/${authId}/Masking/Session/`, filters, limit, offset, page.total),
        objects: page.objects.map((s) => plivoSessionListObject(s, authId, this.recordingUrlOf)),
      },
    };
  }

  @Get(':session_uuid')
  @ApiOperation({ summary: 'Get a session' })
  async get(@CurrentPrincipal() principal: Principal, @Param('session_uuid') sessionId: string) {
    const session = await this.rpc.request(GetSession, {
      scope: await this.scopes.resolve(principal),
      sessionId: sessionIdFrom(sessionId),
    });
    return { api_id: currentCorrelationId(), response: plivoSession(session, this.recordingUrlOf) };
  }

  @Post(':session_uuid')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a session (only the updatable parameters)' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('session_uuid') sessionId: string,
    @Body() body: UpdateSessionDto,
  ) {
    if (body.session_uuid !== undefined && body.session_uuid !== sessionId) {
      throw CodedError.validation('session_uuid', 'session_uuid must be the session in the URL');
    }
    const changes = changesFromUpdate(body);
    await this.callbackUrls.check(callbackUrlsOf(changes));
    const session = await this.rpc.request(
      UpdateSession,
      {
        scope: await this.scopes.resolve(principal),
        sessionId: sessionIdFrom(sessionId),
        changes: {
          ...changes,
          firstParty: body.first_party ? normalizeParty('first_party', body.first_party) : undefined,
          secondParty: body.second_party ? normalizeParty('second_party', body.second_party) : undefined,
        },
      },
      WRITE_CALL,
    );
    return {
      api_id: currentCorrelationId(),
      message: 'Session updated',
      session: plivoSession(session, this.recordingUrlOf),
    };
  }

  @Delete(':session_uuid')
  @HttpCode(200)
  @ApiOperation({ summary: 'Expire a session' })
  async expire(@CurrentPrincipal() principal: Principal, @Param('session_uuid') sessionId: string) {
    await this.rpc.request(
      ExpireSession,
      { scope: await this.scopes.resolve(principal), sessionId: sessionIdFrom(sessionId) },
      WRITE_CALL,
    );
    return { api_id: currentCorrelationId(), message: 'Session expired' };
  }
}

/** An unknown or malformed session id is simply not found (as a foreign one is). */
function sessionIdFrom(raw: string): string {
  if (!uuidSchema.safeParse(raw).success) throw CodedError.notFound(`session ${raw.slice(0, 64)} not found`);
  return raw;
}
