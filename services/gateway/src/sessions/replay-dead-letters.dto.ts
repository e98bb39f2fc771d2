import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class ReplayDto {
  @ApiPropertyOptional({
    description: 'Replay this dead letter only; all of the account’s not yet replayed when absent',
  })
  @IsOptional()
  @IsString({ message: 'event_id must be a string' })
  @MaxLength(128, { message: 'event_id must be at most 128 characters' })
  event_id?: string;
}
