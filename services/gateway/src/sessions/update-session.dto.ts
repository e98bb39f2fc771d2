import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { sessionFieldEntries } from '@maskline/contracts';
import { declareField, declareRefused } from '../http/declare-field';
import { PartyNumber, SubaccountId } from './party-fields';

/**
 * Plivo's update parameters: the updatable settings from `SESSION_FIELDS`; every other setting is
 * a 400 that names it, except those Plivo's SDKs send on update anyway (accepted, ignored).
 */
export class UpdateSessionDto {
  @PartyNumber('first_party', 'Only for single-party sessions that lack it')
  first_party?: string;

  @PartyNumber('second_party', 'Only for single-party sessions that lack it')
  second_party?: string;

  @ApiPropertyOptional({ description: 'Sent by plivo-node; must be the session in the URL' })
  @IsOptional()
  @IsUUID(undefined, { message: 'session_uuid must be the session’s uuid' })
  session_uuid?: string;

  @SubaccountId('subaccount', 'Sent by plivo-python, -ruby and -go; ignored (not updatable)')
  subaccount?: string;

  @SubaccountId('sub_account', 'Alias of subaccount (plivo-node); ignored', true)
  sub_account?: string;

  /** Settings, by their Plivo names: read through `changesFromUpdate`. */
  [name: string]: unknown;
}

for (const [, field] of sessionFieldEntries) {
  for (const name of [field.plivo, ...(field.aliases ?? [])]) {
    if (field.updatable || field.ignoredOnUpdate) {
      declareField(UpdateSessionDto, name, field.kind, {
        description: field.updatable ? field.description : `${field.description} (sent by SDKs; ignored)`,
        nullRefused: field.updatable,
      });
    } else {
      declareRefused(UpdateSessionDto, name, `${name} cannot be updated on an existing session`);
    }
  }
}
for (const name of ['first_party_pin', 'second_party_pin']) {
  declareRefused(UpdateSessionDto, name, `${name} cannot be updated on an existing session`);
}
