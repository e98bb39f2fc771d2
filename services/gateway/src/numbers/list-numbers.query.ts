import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches } from 'class-validator';
import { NUMBER_SERVICES } from '@maskline/contracts';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { PaginationQuery } from '../http/pagination.query';

/** Plivo's `services` filter: what a number provides, comma-separated (`voice,sms`). */
const SERVICES = new RegExp(`^(${NUMBER_SERVICES.join('|')})(,(${NUMBER_SERVICES.join('|')}))*$`);

/** Plivo's number list filters. */
export class ListNumbersQuery extends PaginationQuery {
  @ApiPropertyOptional({ description: 'The number type (local, tollfree, …): Plivo’s `type` filter' })
  @IsOptional()
  @IsString({ message: 'type must be a string' })
  type?: string;

  @ApiPropertyOptional({ description: 'Alias of type', deprecated: true })
  @IsOptional()
  @IsString({ message: 'number_type must be a string' })
  number_type?: string;

  @ApiPropertyOptional({
    description: `Only numbers that provide these services, comma-separated: ${NUMBER_SERVICES.join(', ')} (mms: messages)`,
    example: 'voice,sms',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase().replace(/\s+/g, '') : value))
  @Matches(SERVICES, {
    message: `services must be one or more of ${NUMBER_SERVICES.join(', ')}, comma-separated`,
  })
  services?: string;

  @ApiPropertyOptional({ description: 'Digits the number starts with (country code included)' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? toPlivoNumber(value) : value))
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
}
