import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { CodedError, STATS_WINDOW_MAX_HOURS } from '@maskline/contracts';
import { toInteger } from '../http/param-transforms';

/** The longest window any statistics endpoint takes (each may take less). */
export const WINDOW_MAX_HOURS = STATS_WINDOW_MAX_HOURS;
export const WINDOW_DEFAULT_HOURS = 24;

/** `hours`: how far back a statistics view looks (default 24). */
export class HoursWindowQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: WINDOW_MAX_HOURS, default: WINDOW_DEFAULT_HOURS })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'hours must be an integer' })
  @Min(1, { message: `hours must be between 1 and ${WINDOW_MAX_HOURS}` })
  @Max(WINDOW_MAX_HOURS, { message: `hours must be between 1 and ${WINDOW_MAX_HOURS}` })
  hours?: number;
}

/** The pool's history: a window, and (for a main account) which subaccount's pool. */
export class UtilizationHistoryQuery extends HoursWindowQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;
}

/** The window asked for, at most `max` hours. */
export function hoursOf(query: HoursWindowQuery, max = WINDOW_MAX_HOURS): number {
  const hours = query.hours ?? Math.min(WINDOW_DEFAULT_HOURS, max);
  if (hours > max) throw CodedError.validation('hours', `hours must be between 1 and ${max}`);
  return hours;
}
