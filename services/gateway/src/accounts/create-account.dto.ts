import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { toBoolean } from '../http/param-transforms';

export class CreateAccountDto {
  @ApiProperty({ description: 'A name for the account', maxLength: 100 })
  @IsString({ message: 'name must be a string' })
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  name!: string;
}

/** Plivo's create-subaccount parameters. */
export class CreateSubaccountDto extends CreateAccountDto {
  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}
