import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
} from 'class-validator';
import { toBoolean, toInteger } from '../http/param-transforms';
import { IsPlivoUrl } from '../http/is-plivo-url.validator';

const METHODS = ['GET', 'POST'] as const;
const toMethod = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);
const PHONE = /^\+?[1-9]\d{6,14}$/;
const PIN = /^\d{4,15}$/;
const toPin = ({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value);

/** Settings both create and update take (Plivo's updatable parameters). */
export class SessionSettingsDto {
  @ApiPropertyOptional({
    description: 'Seconds until the session ends',
    default: 3600,
    minimum: 1,
    maximum: 7776000,
  })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'session_expiry must be an integer number of seconds' })
  @Min(1, { message: 'session_expiry must be between 1 and 7776000 seconds' })
  @Max(7776000, { message: 'session_expiry must be between 1 and 7776000 seconds' })
  session_expiry?: number;

  @ApiPropertyOptional({
    description: 'Maximum length of each call, seconds',
    default: 3600,
    minimum: 1,
    maximum: 86400,
  })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'call_time_limit must be an integer number of seconds' })
  @Min(1, { message: 'call_time_limit must be between 1 and 86400 seconds' })
  @Max(86400, { message: 'call_time_limit must be between 1 and 86400 seconds' })
  call_time_limit?: number;

  @ApiPropertyOptional({
    description: 'Ring timeout of each leg, seconds',
    default: 120,
    minimum: 1,
    maximum: 300,
  })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'ring_timeout must be an integer number of seconds' })
  @Min(1, { message: 'ring_timeout must be between 1 and 300 seconds' })
  @Max(300, { message: 'ring_timeout must be between 1 and 300 seconds' })
  ring_timeout?: number;

  @ApiPropertyOptional({ description: 'Where session events are sent' })
  @IsOptional()
  @IsPlivoUrl('callback_url')
  callback_url?: string;

  @ApiPropertyOptional({ enum: METHODS, default: 'POST' })
  @IsOptional()
  @Transform(toMethod)
  @IsIn(METHODS, { message: 'callback_method must be GET or POST' })
  callback_method?: (typeof METHODS)[number];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'record must be true or false' })
  record?: boolean;

  @ApiPropertyOptional({ enum: ['mp3', 'wav'], default: 'mp3' })
  @IsOptional()
  @IsIn(['mp3', 'wav'], { message: 'record_file_format must be mp3 or wav' })
  record_file_format?: 'mp3' | 'wav';

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlivoUrl('recording_callback_url')
  recording_callback_url?: string;

  @ApiPropertyOptional({ enum: METHODS, default: 'POST' })
  @IsOptional()
  @Transform(toMethod)
  @IsIn(METHODS, { message: 'recording_callback_method must be GET or POST' })
  recording_callback_method?: (typeof METHODS)[number];

  @ApiPropertyOptional({ description: 'Played to the first party before connecting' })
  @IsOptional()
  @IsPlivoUrl('first_party_play_url')
  first_party_play_url?: string;

  @ApiPropertyOptional({ description: 'Played to the second party before connecting' })
  @IsOptional()
  @IsPlivoUrl('second_party_play_url')
  second_party_play_url?: string;
}

/** Plivo's create-session parameters (JSON or form-encoded), plus the aliases Plivo's SDKs send. */
export class CreateSessionDto extends SessionSettingsDto {
  @ApiPropertyOptional({
    description: 'Phone number, E.164 with or without +. Required unless single-party.',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'number' ? String(value) : value))
  @IsString({ message: 'first_party must be a phone number' })
  @Matches(PHONE, {
    message: 'first_party must be a phone number in international format, e.g. +14155550100',
  })
  first_party?: string;

  @ApiPropertyOptional({
    description: 'Phone number, E.164 with or without +. Required unless single-party.',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'number' ? String(value) : value))
  @IsString({ message: 'second_party must be a phone number' })
  @Matches(PHONE, {
    message: 'second_party must be a phone number in international format, e.g. +14155550100',
  })
  second_party?: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'initiate_call_to_first_party must be true or false' })
  initiate_call_to_first_party?: boolean;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'is_pin_authentication_required must be true or false' })
  is_pin_authentication_required?: boolean;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'generate_pin must be true or false' })
  generate_pin?: boolean;

  @ApiPropertyOptional({ default: 4, minimum: 4, maximum: 15 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'generate_pin_length must be an integer' })
  @Min(4, { message: 'generate_pin_length must be between 4 and 15' })
  @Max(15, { message: 'generate_pin_length must be between 4 and 15' })
  generate_pin_length?: number;

  @ApiPropertyOptional({ description: '4 to 15 digits' })
  @IsOptional()
  @Transform(toPin)
  @IsString({ message: 'first_party_pin must be 4 to 15 digits' })
  @Matches(PIN, { message: 'first_party_pin must be 4 to 15 digits (0-9)' })
  first_party_pin?: string;

  @ApiPropertyOptional({ description: '4 to 15 digits, different from first_party_pin' })
  @IsOptional()
  @Transform(toPin)
  @IsString({ message: 'second_party_pin must be 4 to 15 digits' })
  @Matches(PIN, { message: 'second_party_pin must be 4 to 15 digits (0-9)' })
  second_party_pin?: string;

  @ApiPropertyOptional({ description: 'Played to ask for the PIN (a spoken prompt when unset)' })
  @IsOptional()
  @IsPlivoUrl('pin_prompt_play')
  pin_prompt_play?: string;

  @ApiPropertyOptional({ default: 1, minimum: 0, maximum: 5 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'pin_retry must be an integer' })
  @Min(0, { message: 'pin_retry must be between 0 and 5' })
  @Max(5, { message: 'pin_retry must be between 0 and 5' })
  pin_retry?: number;

  @ApiPropertyOptional({ default: 5, minimum: 5, maximum: 10 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'pin_retry_wait must be an integer number of seconds' })
  @Min(5, { message: 'pin_retry_wait must be between 5 and 10 seconds' })
  @Max(10, { message: 'pin_retry_wait must be between 5 and 10 seconds' })
  pin_retry_wait?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlivoUrl('incorrect_pin_play')
  incorrect_pin_play?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsPlivoUrl('unknown_caller_play')
  unknown_caller_play?: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'force_pin_authentication must be true or false' })
  force_pin_authentication?: boolean;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'create_session_with_single_party must be true or false' })
  create_session_with_single_party?: boolean;

  @ApiPropertyOptional({ description: 'Alias sent by plivo-go', deprecated: true })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'create_session_with_single_Party must be true or false' })
  create_session_with_single_Party?: boolean;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 3600 })
  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsInt({ message: 'virtual_number_cooloff_period must be an integer number of seconds' })
  @Min(0, { message: 'virtual_number_cooloff_period must be between 0 and 3600 seconds' })
  @Max(3600, { message: 'virtual_number_cooloff_period must be between 0 and 3600 seconds' })
  virtual_number_cooloff_period?: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'geomatch must be true or false' })
  geomatch?: boolean;

  @ApiPropertyOptional({ description: 'Alias sent by plivo-node (geoMatch)', deprecated: true })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'geo_match must be true or false' })
  geo_match?: boolean;

  @ApiPropertyOptional({ description: 'Create the session for this subaccount' })
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  @MaxLength(32, { message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;

  @ApiPropertyOptional({ description: 'Alias sent by plivo-node (subAccount)', deprecated: true })
  @IsOptional()
  @IsString({ message: 'sub_account must be a subaccount auth id' })
  @MaxLength(32, { message: 'sub_account must be a subaccount auth id' })
  sub_account?: string;
}

/** A create parameter Plivo documents as not updatable: named in a 400 when an update sends it. */
function NotUpdatable(): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'notUpdatable',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} cannot be updated on an existing session` },
      validator: { validate: (value: unknown) => value === undefined },
    });
  };
}

/** Plivo's update parameters, and what Plivo's SDKs send along. */
export class UpdateSessionDto extends SessionSettingsDto {
  @NotUpdatable() initiate_call_to_first_party?: unknown;
  @NotUpdatable() is_pin_authentication_required?: unknown;
  @NotUpdatable() generate_pin?: unknown;
  @NotUpdatable() generate_pin_length?: unknown;
  @NotUpdatable() first_party_pin?: unknown;
  @NotUpdatable() second_party_pin?: unknown;
  @NotUpdatable() pin_prompt_play?: unknown;
  @NotUpdatable() pin_retry?: unknown;
  @NotUpdatable() pin_retry_wait?: unknown;
  @NotUpdatable() incorrect_pin_play?: unknown;
  @NotUpdatable() unknown_caller_play?: unknown;
  @NotUpdatable() force_pin_authentication?: unknown;
  @NotUpdatable() create_session_with_single_party?: unknown;
  @NotUpdatable() create_session_with_single_Party?: unknown;
  @NotUpdatable() virtual_number_cooloff_period?: unknown;

  @ApiPropertyOptional({ description: 'Sent by plivo-node; must be the session in the URL' })
  @IsOptional()
  @IsUUID(undefined, { message: 'session_uuid must be the session’s uuid' })
  session_uuid?: string;

  @ApiPropertyOptional({ description: 'Sent by plivo-python, -ruby and -go; ignored (not updatable)' })
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  @MaxLength(32, { message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;

  @ApiPropertyOptional({ description: 'Alias of subaccount (plivo-node); ignored', deprecated: true })
  @IsOptional()
  @IsString({ message: 'sub_account must be a subaccount auth id' })
  @MaxLength(32, { message: 'sub_account must be a subaccount auth id' })
  sub_account?: string;

  @ApiPropertyOptional({ description: 'Sent by plivo-python, -ruby and -go; ignored (not updatable)' })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'geomatch must be true or false' })
  geomatch?: boolean;

  @ApiPropertyOptional({ description: 'Alias of geomatch (plivo-node); ignored', deprecated: true })
  @IsOptional()
  @Transform(({ value }) => toBoolean(value))
  @IsBoolean({ message: 'geo_match must be true or false' })
  geo_match?: boolean;

  @ApiPropertyOptional({ description: 'Only for single-party sessions that lack it' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'number' ? String(value) : value))
  @IsString({ message: 'first_party must be a phone number' })
  @Matches(PHONE, {
    message: 'first_party must be a phone number in international format, e.g. +14155550100',
  })
  first_party?: string;

  @ApiPropertyOptional({ description: 'Only for single-party sessions that lack it' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'number' ? String(value) : value))
  @IsString({ message: 'second_party must be a phone number' })
  @Matches(PHONE, {
    message: 'second_party must be a phone number in international format, e.g. +14155550100',
  })
  second_party?: string;
}

const TIME = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/;
const TIME_MESSAGE = (f: string) => `${f} must be a time as YYYY-MM-DD HH:MM[:ss[.uuuuuu]] (UTC)`;

function timeFilter(field: string) {
  return [IsOptional(), Matches(TIME, { message: TIME_MESSAGE(field) })];
}
function durationFilter(field: string) {
  return [
    IsOptional(),
    Transform(({ value }) => toInteger(value)),
    IsInt({ message: `${field} must be an integer number of seconds` }),
    Min(0, { message: `${field} must be 0 or more` }),
  ];
}
const apply =
  (decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

/** Plivo's list filters. */
export class ListSessionsQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(PHONE, { message: 'first_party must be a phone number' })
  first_party?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(PHONE, { message: 'second_party must be a phone number' })
  second_party?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(PHONE, { message: 'virtual_number must be a phone number' })
  virtual_number?: string;

  @ApiPropertyOptional({ enum: ['active', 'expired', 'all'], default: 'all' })
  @IsOptional()
  @IsIn(['active', 'expired', 'all'], { message: 'status must be active, expired or all' })
  status?: 'active' | 'expired' | 'all';

  @ApiPropertyOptional() @apply(timeFilter('created_time')) created_time?: string;
  @ApiPropertyOptional() @apply(timeFilter('created_time__gt')) created_time__gt?: string;
  @ApiPropertyOptional() @apply(timeFilter('created_time__gte')) created_time__gte?: string;
  @ApiPropertyOptional() @apply(timeFilter('created_time__lt')) created_time__lt?: string;
  @ApiPropertyOptional() @apply(timeFilter('created_time__lte')) created_time__lte?: string;
  @ApiPropertyOptional() @apply(timeFilter('expiry_time')) expiry_time?: string;
  @ApiPropertyOptional() @apply(timeFilter('expiry_time__gt')) expiry_time__gt?: string;
  @ApiPropertyOptional() @apply(timeFilter('expiry_time__gte')) expiry_time__gte?: string;
  @ApiPropertyOptional() @apply(timeFilter('expiry_time__lt')) expiry_time__lt?: string;
  @ApiPropertyOptional() @apply(timeFilter('expiry_time__lte')) expiry_time__lte?: string;
  @ApiPropertyOptional() @apply(durationFilter('duration')) duration?: number;
  @ApiPropertyOptional() @apply(durationFilter('duration__gt')) duration__gt?: number;
  @ApiPropertyOptional() @apply(durationFilter('duration__gte')) duration__gte?: number;
  @ApiPropertyOptional() @apply(durationFilter('duration__lt')) duration__lt?: number;
  @ApiPropertyOptional() @apply(durationFilter('duration__lte')) duration__lte?: number;
  /** plivo-node turns createdTimeEquals, expiryTimeEquals and durationEquals into these. */
  @ApiPropertyOptional({ description: 'Alias of created_time (plivo-node)', deprecated: true })
  @apply(timeFilter('created_times'))
  created_times?: string;
  @ApiPropertyOptional({ description: 'Alias of expiry_time (plivo-node)', deprecated: true })
  @apply(timeFilter('expiry_times'))
  expiry_times?: string;
  @ApiPropertyOptional({ description: 'Alias of duration (plivo-node)', deprecated: true })
  @apply(durationFilter('durations'))
  durations?: number;

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

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'subaccount must be a subaccount auth id' })
  subaccount?: string;
}
