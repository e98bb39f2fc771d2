import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { numberFieldEntries } from '@maskline/contracts';
import { declareField } from '../http/declare-field';
import { SubaccountId } from '../sessions/party-fields';
import { ProviderCredentialFields } from './provider-credential-fields';

/** Plivo's "add a number from your own carrier", plus the provider that carries it (settings from `NUMBER_FIELDS`). */
export class AddNumbersDto extends ProviderCredentialFields {
  @ApiProperty({
    description:
      'Numbers to add: a comma-separated string (as Plivo takes it) or an array, E.164 with or without +',
    example: '14155550100,14155550101',
  })
  @Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : value,
  )
  @IsString({ each: true, message: 'numbers must be a comma-separated list of phone numbers' })
  @Length(1, 32, { each: true, message: 'numbers must be a comma-separated list of phone numbers' })
  numbers!: string[];

  @SubaccountId('subaccount', 'Add the numbers to this subaccount (main accounts only)')
  subaccount?: string;

  /** Settings, by their Plivo names: read through `numberFieldsFromAdd`. */
  [name: string]: unknown;
}

for (const [, field] of numberFieldEntries) {
  if (field.onAdd) {
    declareField(AddNumbersDto, field.plivo, field.kind, {
      description: field.description,
      default: field.default,
    });
  }
}
