import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Min, ValidateBy } from 'class-validator';
import { PLIVO_FILTER_TIME_RULE, isPlivoFilterTime } from '@maskline/plivo-wire';
import { PaginationQuery } from '../http/pagination.query';
import { toInteger } from '../http/param-transforms';

const PHONE = /^\+?[1-9]\d{6,14}$/;

/** Plivo's range filters: `<name>` (equal), `<name>__gt`, `__gte`, `__lt`, `__lte`. */
export const RANGE_SUFFIXES = { '': 'eq', __gt: 'gt', __gte: 'gte', __lt: 'lt', __lte: 'lte' } as const;
export type RangeBound = (typeof RANGE_SUFFIXES)[keyof typeof RANGE_SUFFIXES];
/** The filters that take ranges, what they hold, and plivo-node's spelling of the equality (`createdTimeEquals` → `created_times`). */
export const RANGE_FILTERS = {
  created_time: { kind: 'time', sdkEquals: 'created_times' },
  expiry_time: { kind: 'time', sdkEquals: 'expiry_times' },
  duration: { kind: 'seconds', sdkEquals: 'durations' },
} as const;
export type RangeFilter = keyof typeof RANGE_FILTERS;

/** Plivo's list filters (the range ones declared from `RANGE_FILTERS`). */
export class ListSessionsQuery extends PaginationQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(PHONE, { message: 'first_party must be a phone number' })
  first_party?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(PHONE, { message: 'second_party must be a phone number' })
  second_party?: string;

  @ApiPropertyOptional({ description: 'Either party (Maskline extension)' })
  @IsOptional()
  @Matches(PHONE, { message: 'party must be a phone number' })
  party?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(PHONE, { message: 'virtual_number must be a phone number' })
  virtual_number?: string;

  @ApiPropertyOptional({ enum: ['active', 'expired', 'all'], default: 'all' })
  @IsOptional()
  @IsIn(['active', 'expired', 'all'], { message: 'status must be active, expired or all' })
  status?: 'active' | 'expired' | 'all';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;

  /** Range filters, by name and suffix. */
  [name: string]: unknown;
}

function declareRangeParameter(
  name: string,
  kind: 'time' | 'seconds',
  description: string,
  deprecated = false,
) {
  const target = ListSessionsQuery.prototype;
  const decorators =
    kind === 'time'
      ? [
          ApiPropertyOptional({ description, deprecated, example: '2026-11-28 10:00' }),
          IsOptional(),
          ValidateBy({
            name: 'plivoFilterTime',
            validator: {
              validate: (value) => isPlivoFilterTime(value),
              defaultMessage: () => `${name} must be ${PLIVO_FILTER_TIME_RULE}`,
            },
          }),
        ]
      : [
          ApiPropertyOptional({ description, deprecated, type: 'integer', minimum: 0 }),
          IsOptional(),
          Transform(({ value }) => toInteger(value)),
          IsInt({ message: `${name} must be an integer number of seconds` }),
          Min(0, { message: `${name} must be 0 or more` }),
        ];
  for (const d of decorators) d(target, name);
}

for (const [filter, { kind, sdkEquals }] of Object.entries(RANGE_FILTERS)) {
  for (const [suffix, bound] of Object.entries(RANGE_SUFFIXES)) {
    declareRangeParameter(`${filter}${suffix}`, kind, `${filter} ${bound === 'eq' ? '=' : bound}`);
  }
  declareRangeParameter(sdkEquals, kind, `Alias of ${filter} (plivo-node)`, true);
}

/** One range filter's bounds, as the query gives them (`{gt: '2026-…'}`), the equality's alias included. */
export function rangeOf(query: ListSessionsQuery, filter: RangeFilter): Partial<Record<RangeBound, unknown>> {
  const out: Partial<Record<RangeBound, unknown>> = {};
  for (const [suffix, bound] of Object.entries(RANGE_SUFFIXES)) {
    const value =
      query[`${filter}${suffix}`] ?? (suffix === '' ? query[RANGE_FILTERS[filter].sdkEquals] : undefined);
    if (value !== undefined) out[bound] = value;
  }
  return out;
}
