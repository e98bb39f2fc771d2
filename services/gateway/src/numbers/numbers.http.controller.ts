import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AddVirtualNumbers,
  CodedError,
  DeleteVirtualNumber,
  GetVirtualNumber,
  ListVirtualNumbers,
  UpdateVirtualNumber,
  e164Schema,
  type NumberService,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { currentCorrelationId } from '@maskline/observability';
import { PlivoAuthGuard } from '../auth/plivo-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ScopeResolver } from '../auth/scope-resolver';
import { pageOf } from '../http/pagination.query';
import { plivoMeta } from '../http/plivo-pagination';
import { numberFromPath, plivoNumberView } from './number.view';
import { AddNumbersDto } from './add-numbers.dto';
import { ListNumbersQuery } from './list-numbers.query';
import { numberChangesFromUpdate, numberFieldsFromAdd } from './number-fields.mapper';
import { credentialsOf } from './provider-credential-fields';
import { UpdateNumberDto } from './update-number.dto';

/** Plivo's Number API (`/v1/Account/{auth_id}/Number/`) over the number-pool service. */
@ApiTags('numbers')
@ApiBasicAuth()
@UseGuards(PlivoAuthGuard)
@Controller(['v1/Account/:auth_id/Number', 'v1/Account/:auth_id/Number/'])
export class NumbersHttpController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly scopes: ScopeResolver,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Add numbers you own at your carrier' })
  async add(@CurrentPrincipal() principal: Principal, @Body() body: AddNumbersDto) {
    const scope = await this.scopes.resolve(principal, body.subaccount);
    const { added } = await this.rpc.request(AddVirtualNumbers, {
      scope,
      ...(principal.kind === 'main' && scope.subaccountId ? { byMainAccount: true as const } : {}),
      numbers: body.numbers,
      credentials: credentialsOf(body),
      ...numberFieldsFromAdd(body),
    });
    return { api_id: currentCorrelationId(), message: 'changed', numbers: added.map(plivoNumberView) };
  }

  @Get()
  @ApiOperation({ summary: 'List numbers' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('auth_id') authId: string,
    @Query() query: ListNumbersQuery,
  ) {
    const { limit, offset } = pageOf(query);
    const scope = await this.scopes.resolve(principal);
    // A main account may filter by one of its subaccounts (checked to be its own).
    if (query.subaccount && principal.kind === 'main') await this.scopes.resolve(principal, query.subaccount);
    if (query.type !== undefined && query.number_type !== undefined && query.type !== query.number_type) {
      throw CodedError.validation('type', 'type and number_type name one filter: give one, or both the same');
    }
    const numberType = query.type ?? query.number_type;
    const services = query.services ? [...new Set(query.services.split(','))] : undefined;
    const page = await this.rpc.request(ListVirtualNumbers, {
      scope,
      subaccountId: principal.kind === 'main' ? query.subaccount : undefined,
      numberStartsWith: query.number_startswith,
      numberType,
      ...(services ? { services: services as NumberService[] } : {}),
      alias: query.alias,
      country: query.country,
      limit,
      offset,
    });
    const filters = {
      type: query.type,
      number_type: query.number_type,
      services: query.services,
      number_startswith: query.number_startswith,
      subaccount: query.subaccount,
      alias: query.alias,
      country: query.country,
    };
    return {
      api_id: currentCorrelationId(),
      meta: plivoMeta(`/v1/Account/${authId}/Number/`, filters, limit, offset, page.total),
      objects: page.objects.map(plivoNumberView),
    };
  }

  @Get(':number')
  @ApiOperation({ summary: 'Get a number' })
  async get(@CurrentPrincipal() principal: Principal, @Param('number') raw: string) {
    const number = await this.number(raw);
    const n = await this.rpc.request(GetVirtualNumber, {
      scope: await this.scopes.resolve(principal),
      number,
    });
    return { api_id: currentCorrelationId(), ...plivoNumberView(n) };
  }

  @Post(':number')
  @HttpCode(202)
  @ApiOperation({ summary: 'Update a number (alias, subaccount, provider credentials)' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('number') raw: string,
    @Body() body: UpdateNumberDto,
  ) {
    const number = await this.number(raw);
    const scope = await this.scopes.resolve(principal);
    let subaccountId: string | null | undefined;
    if (body.subaccount !== undefined) {
      subaccountId =
        body.subaccount === '' ? null : (await this.scopes.resolve(principal, body.subaccount)).subaccountId;
    }
    await this.rpc.request(UpdateVirtualNumber, {
      scope,
      number,
      subaccountId,
      credentials: credentialsOf(body),
      ...numberChangesFromUpdate(body),
    });
    return { api_id: currentCorrelationId(), message: 'changed' };
  }

  @Delete(':number')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a number: no new sessions; live sessions keep it until they end' })
  async remove(@CurrentPrincipal() principal: Principal, @Param('number') raw: string): Promise<void> {
    const number = await this.number(raw);
    await this.rpc.request(DeleteVirtualNumber, { scope: await this.scopes.resolve(principal), number });
  }

  private async number(raw: string): Promise<string> {
    const number = numberFromPath(raw);
    if (!e164Schema.safeParse(number).success) {
      throw CodedError.validation(
        'number',
        'number in the URL must be a phone number in international format',
      );
    }
    return number;
  }
}
