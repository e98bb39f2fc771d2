import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const PHONE = /^\+?[1-9]\d{6,14}$/;
const PIN = /^\d{4,15}$/;
const asString = ({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value);

/** A party's phone number parameter (E.164, with or without `+`; forms send digits as numbers too). */
export function PartyNumber(name: string, description: string): PropertyDecorator {
  return (target, key) => {
    for (const d of [
      ApiPropertyOptional({ description }),
      IsOptional(),
      Transform(asString),
      IsString({ message: `${name} must be a phone number` }),
      Matches(PHONE, {
        message: `${name} must be a phone number in international format, e.g. +14155550100`,
      }),
    ])
      d(target, key);
  };
}

/** A PIN parameter: 4 to 15 digits. */
export function PartyPin(name: string, description: string): PropertyDecorator {
  return (target, key) => {
    for (const d of [
      ApiPropertyOptional({ description }),
      IsOptional(),
      Transform(asString),
      IsString({ message: `${name} must be 4 to 15 digits` }),
      Matches(PIN, { message: `${name} must be 4 to 15 digits (0-9)` }),
    ])
      d(target, key);
  };
}

/** A subaccount's Auth ID parameter. */
export function SubaccountId(name: string, description: string, deprecated = false): PropertyDecorator {
  return (target, key) => {
    for (const d of [
      ApiPropertyOptional({ description, deprecated }),
      IsOptional(),
      IsString({ message: `${name} must be a subaccount auth id` }),
      MaxLength(32, { message: `${name} must be a subaccount auth id` }),
    ])
      d(target, key);
  };
}
