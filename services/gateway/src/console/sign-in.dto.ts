import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

/** The console's sign-in: an account's Auth ID and Auth Token, or the operator key. */
export class SignInDto {
  @ApiPropertyOptional({ description: 'Auth ID of an account or subaccount' })
  @IsOptional()
  @IsString({ message: 'auth_id must be a string' })
  @Length(1, 64, { message: 'auth_id must be 1 to 64 characters' })
  auth_id?: string;

  @ApiPropertyOptional({ description: 'Its Auth Token' })
  @IsOptional()
  @IsString({ message: 'auth_token must be a string' })
  @Length(1, 256, { message: 'auth_token must be 1 to 256 characters' })
  auth_token?: string;

  @ApiPropertyOptional({ description: 'The operator key, for the operator views' })
  @IsOptional()
  @IsString({ message: 'operator_key must be a string' })
  @Length(1, 256, { message: 'operator_key must be 1 to 256 characters' })
  operator_key?: string;
}
