import { sessionFieldEntries } from '@maskline/contracts';
import { declareField } from '../http/declare-field';
import { PartyNumber, PartyPin, SubaccountId } from './party-fields';

/**
 * Plivo's create-session parameters (JSON or form-encoded): the parties and PINs here, every
 * setting (and the spellings Plivo's SDKs send) from `SESSION_FIELDS`.
 */
export class CreateSessionDto {
  @PartyNumber('first_party', 'Phone number, E.164 with or without +. Required unless single-party.')
  first_party?: string;

  @PartyNumber('second_party', 'Phone number, E.164 with or without +. Required unless single-party.')
  second_party?: string;

  @PartyPin('first_party_pin', '4 to 15 digits')
  first_party_pin?: string;

  @PartyPin('second_party_pin', '4 to 15 digits, different from first_party_pin')
  second_party_pin?: string;

  @SubaccountId('subaccount', 'Create the session for this subaccount')
  subaccount?: string;

  @SubaccountId('sub_account', 'Alias of subaccount (plivo-node)', true)
  sub_account?: string;

  /** Settings, by their Plivo names (and aliases): read through `settingsFromCreate`. */
  [name: string]: unknown;
}

for (const [, field] of sessionFieldEntries) {
  declareField(CreateSessionDto, field.plivo, field.kind, {
    description: field.description,
    default: field.default,
  });
  for (const alias of field.aliases ?? []) {
    declareField(CreateSessionDto, alias, field.kind, {
      description: `Alias of ${field.plivo} (sent by a Plivo SDK)`,
      deprecated: true,
    });
  }
}
