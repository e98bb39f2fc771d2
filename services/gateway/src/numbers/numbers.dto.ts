import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { IsPlivoUrl } from '../http/is-plivo-url.validator';
import { toInteger, toTrimmedString } from '../http/param-transforms';

const PROVIDERS = ['plivo', 'twilio'] as const;

/** Plivo's "add a number from your own carrier", plus the provider that carries it. */
export class AddNumbersDto {
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

  @ApiPropertyOptional({ description: 'Free text (Plivo: the IncomingCarrier id)' })
  @IsOptional()
  @IsString({ message: 'carrier must be a string' })
  @Length(0, 100, { message: 'carrier must be at most 100 characters' })
  carrier?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'region must be a string' })
  @Length(0, 100, { message: 'region must be at most 100 characters' })
  region?: string;

  @ApiPropertyOptional({ default: 'local' })
  @IsOptional()
  @IsString({ message: 'number_type must be a string' })
  @Length(1, 20, { message: 'number_type must be 1 to 20 characters' })
  number_type?: string;

  @ApiPropertyOptional({ description: 'Add the numbers to this subaccount (main accounts only)' })
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;

  @ApiPropertyOptional({ description: 'Accepted for SDK compatibility; ignored' })
  @IsOptional()
  app_id?: unknown;

  @ApiPropertyOptional({
    enum: PROVIDERS,
    default: 'plivo',
    description: 'Which provider carries the numbers',
  })
  @IsOptional()
  @IsIn(PROVIDERS, { message: 'provider must be plivo or twilio' })
  provider?: (typeof PROVIDERS)[number];

  @ApiPropertyOptional({
    description:
      "The provider account that signs this number's webhooks (Plivo Auth ID / Twilio Account SID)",
  })
  @ValidateIf((o: AddNumbersDto) => o.provider_auth_token !== undefined || o.provider_auth_id !== undefined)
  @IsString({ message: 'provider_auth_id is required with provider_auth_token' })
  @Length(1, 64, { message: 'provider_auth_id must be 1 to 64 characters' })
  provider_auth_id?: string;

  @ApiPropertyOptional({ description: 'Its Auth Token: stored encrypted, never returned', writeOnly: true })
  @ValidateIf((o: AddNumbersDto) => o.provider_auth_token !== undefined || o.provider_auth_id !== undefined)
  @IsString({ message: 'provider_auth_token is required with provider_auth_id' })
  @Length(8, 128, { message: 'provider_auth_token must be 8 to 128 characters' })
  provider_auth_token?: string;

  @ApiPropertyOptional({
    description:
      'Where calls go when no live session is on the number (its normal application, as on Plivo): Maskline redirects the call there. Unset: a short message, then hang up.',
  })
  @IsOptional()
  @IsPlivoUrl('fallback_answer_url')
  fallback_answer_url?: string;
}

export class ListNumbersQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'number_type must be a string' })
  number_type?: string;

  @ApiPropertyOptional({ description: 'Digits the number starts with (country code included)' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.replace(/^\+/, '') : value))
  @Matches(/^\d{1,15}$/, { message: 'number_startswith must be 1 to 15 digits' })
  number_startswith?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'alias must be a string' })
  alias?: string;

  @ApiPropertyOptional({ description: 'ISO country code, e.g. US' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.toUpperCase() : value))
  @Matches(/^[A-Z]{2}$/, { message: 'country must be a two-letter ISO code' })
  country?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 20, default: 20 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be between 1 and 20' })
  @Max(20, { message: 'limit must be between 1 and 20' })
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'offset must be an integer' })
  @Min(0, { message: 'offset must be 0 or more' })
  offset?: number;
}

export class UpdateNumberDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }) => toTrimmedString(value))
  @IsString({ message: 'alias must be a string' })
  @Length(0, 100, { message: 'alias must be at most 100 characters' })
  alias?: string;

  @ApiPropertyOptional({
    description: 'Move to this subaccount; an empty string moves it back to the main account',
  })
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id or empty' })
  subaccount?: string;

  @ApiPropertyOptional({ description: 'Accepted for SDK compatibility; ignored' })
  @IsOptional()
  app_id?: unknown;

  @ApiPropertyOptional({ enum: PROVIDERS })
  @IsOptional()
  @IsIn(PROVIDERS, { message: 'provider must be plivo or twilio' })
  provider?: (typeof PROVIDERS)[number];

  @ApiPropertyOptional()
  @ValidateIf((o: UpdateNumberDto) => o.provider_auth_token !== undefined || o.provider_auth_id !== undefined)
  @IsString({ message: 'provider_auth_id is required with provider_auth_token' })
  @Length(1, 64, { message: 'provider_auth_id must be 1 to 64 characters' })
  provider_auth_id?: string;

  @ApiPropertyOptional({ writeOnly: true })
  @ValidateIf((o: UpdateNumberDto) => o.provider_auth_token !== undefined || o.provider_auth_id !== undefined)
  @IsString({ message: 'provider_auth_token is required with provider_auth_id' })
  @Length(8, 128, { message: 'provider_auth_token must be 8 to 128 characters' })
  provider_auth_token?: string;

  @ApiPropertyOptional({
    description: 'Where calls go when no live session is on the number; an empty string removes it',
  })
  @IsOptional()
  @ValidateIf((o: UpdateNumberDto) => o.fallback_answer_url !== '')
  @IsPlivoUrl('fallback_answer_url')
  fallback_answer_url?: string;
}
