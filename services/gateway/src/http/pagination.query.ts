import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { PAGE_LIMIT_MAX, PAGE_OFFSET_MAX } from '@maskline/contracts';
import { toInteger } from './param-transforms';

/** Plivo's paging: `limit` 1–20 (default 20) and `offset` 0–10,000. Every list query extends it. */
export class PaginationQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_MAX })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: `limit must be between 1 and ${PAGE_LIMIT_MAX}` })
  @Max(PAGE_LIMIT_MAX, { message: `limit must be between 1 and ${PAGE_LIMIT_MAX}` })
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: PAGE_OFFSET_MAX, default: 0 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'offset must be an integer' })
  @Min(0, { message: `offset must be between 0 and ${PAGE_OFFSET_MAX}` })
  @Max(PAGE_OFFSET_MAX, {
    message: `offset must be between 0 and ${PAGE_OFFSET_MAX}: narrow the search (time, number, status) instead`,
  })
  offset?: number;
}

export const DEFAULT_PAGE = { limit: PAGE_LIMIT_MAX, offset: 0 } as const;

/** The page a query asks for, defaults filled in. */
export function pageOf(query: PaginationQuery): { limit: number; offset: number } {
  return { limit: query.limit ?? DEFAULT_PAGE.limit, offset: query.offset ?? DEFAULT_PAGE.offset };
}
