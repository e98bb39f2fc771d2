import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean } from 'class-validator';
import { toBoolean } from '../http/param-transforms';

/** An operator's choice for a main account: keep its parties' numbers in ended sessions' records. */
export class AccountPrivacyDto {
  @ApiProperty({
    description:
      'true: ended sessions and their dead letters keep the parties’ numbers until they are deleted; false (the default): the numbers give way to a keyed digest PARTY_REDACTION_AFTER_HOURS after the session ends',
  })
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'keep_party_numbers must be true or false' })
  keep_party_numbers!: boolean;
}
