import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { numberFieldEntries } from '@maskline/contracts';
import { declareField } from '../http/declare-field';
import { ProviderCredentialFields } from './provider-credential-fields';

/** Plivo's number update, plus Maskline's provider settings (settings from `NUMBER_FIELDS`). */
export class UpdateNumberDto extends ProviderCredentialFields {
  @ApiPropertyOptional({
    description: 'Move to this subaccount; an empty string moves it back to the main account',
  })
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id or empty' })
  subaccount?: string;

  /** Settings, by their Plivo names: read through `numberChangesFromUpdate`. */
  [name: string]: unknown;
}

for (const [, field] of numberFieldEntries) {
  if (!field.onUpdate) continue;
  const clears = field.onUpdate === 'set-or-clear';
  declareField(UpdateNumberDto, field.plivo, field.kind, {
    description: clears ? `${field.description}; "" (or null) removes it` : field.description,
    emptyClears: clears,
    nullRefused: !clears,
  });
}
