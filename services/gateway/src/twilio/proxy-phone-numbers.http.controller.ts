import { TwilioApiBase, TwilioApiController } from './twilio-api.controller';
import { PROXY_REFS } from './proxy-ref.pipe';
import { Body, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  AssignProxyNumber,
  CodedError,
  GetProxyNumber,
  GetProxyService,
  ListProxyNumbers,
  UnassignProxyNumber,
  UpdateProxyNumber,
  e164Schema,
} from '@maskline/contracts';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { numberFromPath } from '../numbers/number.view';
import { twilioPhoneNumberView } from './proxy-phone-number.view';
import { numberOfSid } from './twilio-number-sid';
import { readTwilioPaging, twilioPage } from './twilio-page';
import { ProxyPhoneNumberParamsDto, ProxyPhoneNumberUpdateDto } from './proxy-phone-number-params.dto';

/**
 * A Service's numbers, as `client.proxy.v1.services(sid).phoneNumbers` calls them. A number must
 * be one of the account's (added with the Number API, with its provider credentials); it then
 * serves this Service, and is still the account's for Plivo-style sessions (one pool: the same
 * party never holds it in two live sessions, whichever API made them). A reserved number is
 * given only to sessions that name it.
 */
@TwilioApiController('v1/Services/:service/PhoneNumbers')
export class ProxyPhoneNumbersHttpController extends TwilioApiBase {
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Add one of the account’s numbers to the Service (by Sid or PhoneNumber)' })
  async add(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
    @Body() body: ProxyPhoneNumberParamsDto,
  ) {
    const { scope, serviceSid } = await this.service(principal, ref);
    const p = { sid: body?.Sid, phoneNumber: body?.PhoneNumber, isReserved: body?.IsReserved };
    if (!p.sid === !p.phoneNumber) {
      throw CodedError.validation('PhoneNumber', 'give either Sid or PhoneNumber (one of them, not both)');
    }
    const number = p.sid ? numberOfSid(p.sid) : numberFromPath(p.phoneNumber!);
    if (!number) throw CodedError.validation('Sid', 'Sid names no phone number (PN and 32 hex digits)');
    if (!e164Schema.safeParse(number).success) {
      throw CodedError.validation('PhoneNumber', 'PhoneNumber must be an E.164 number such as +14155550100');
    }
    const added = await this.rpc.request(AssignProxyNumber, {
      scope,
      serviceSid,
      number,
      ...(p.isReserved !== undefined ? { isReserved: p.isReserved } : {}),
    });
    return twilioPhoneNumberView(added, serviceSid, this.base);
  }

  @Get()
  @ApiOperation({ summary: 'The Service’s numbers' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
    @Query() query: Record<string, unknown>,
  ) {
    const { scope, serviceSid } = await this.service(principal, ref);
    const paging = readTwilioPaging(query);
    const page = await this.rpc.request(ListProxyNumbers, { scope, serviceSid, ...paging });
    return twilioPage(
      `${this.base}/v1/Services/${serviceSid}/PhoneNumbers`,
      'phone_numbers',
      page.numbers.map((n) => twilioPhoneNumberView(n, serviceSid, this.base)),
      { ...paging, more: page.more },
    );
  }

  @Get(':number')
  @ApiOperation({ summary: 'One of the Service’s numbers, by its SID or in E.164' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
    @Param('number') n: string,
  ) {
    const { scope, serviceSid } = await this.service(principal, ref);
    const found = await this.rpc.request(GetProxyNumber, { scope, serviceSid, number: numberIn(n) });
    return twilioPhoneNumberView(found, serviceSid, this.base);
  }

  @Post(':number')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reserve a number of the Service, or free it for any session' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
    @Param('number') n: string,
    @Body() body: ProxyPhoneNumberUpdateDto,
  ) {
    const { scope, serviceSid } = await this.service(principal, ref);
    const isReserved = body?.IsReserved;
    if (isReserved === undefined) throw CodedError.validation('IsReserved', 'IsReserved is required');
    const updated = await this.rpc.request(UpdateProxyNumber, {
      scope,
      serviceSid,
      number: numberIn(n),
      isReserved,
    });
    return twilioPhoneNumberView(updated, serviceSid, this.base);
  }

  @Delete(':number')
  @HttpCode(204)
  @ApiOperation({ summary: 'Take a number out of the Service (it stays the account’s)' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) ref: string,
    @Param('number') n: string,
  ): Promise<void> {
    const { scope, serviceSid } = await this.service(principal, ref);
    await this.rpc.request(UnassignProxyNumber, { scope, serviceSid, number: numberIn(n) });
  }

  /** The caller's Service (by SID or UniqueName); another account's is not found. */
  private async service(principal: Principal, ref: string) {
    const scope = scopeOf(principal);
    const service = await this.rpc.request(GetProxyService, { scope, service: ref });
    return { scope, serviceSid: service.sid };
  }
}

/** A number in a path: its PN SID, or the number itself. */
function numberIn(raw: string): string {
  const number = raw.startsWith('PN') ? numberOfSid(raw) : numberFromPath(raw);
  if (!number || !e164Schema.safeParse(number).success)
    throw CodedError.notFound(`PhoneNumber ${raw.slice(0, 64)} not found`);
  return number;
}
