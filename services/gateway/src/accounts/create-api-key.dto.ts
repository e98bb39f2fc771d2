import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

export class CreateApiKeyDto {
  @ApiPropertyOptional({ description: 'A name of your own for the key', maxLength: 64 })
  @IsOptional()
  @IsString({ message: 'friendly_name must be a string' })
  @Length(1, 64, { message: 'friendly_name must be 1 to 64 characters' })
  friendly_name?: string;

  @ApiPropertyOptional({
    description: "A main account's subaccount the key acts as (else the account itself)",
  })
  @IsOptional()
  @IsString({ message: 'subaccount must be a string' })
  subaccount?: string;
}
