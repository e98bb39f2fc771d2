import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateIf,
  registerDecorator,
} from 'class-validator';
import type { FieldKind } from '@maskline/contracts';
import { IsPlivoUrl } from './is-plivo-url.validator';
import { toBoolean, toInteger, toTrimmedString } from './param-transforms';

export interface FieldDoc {
  description: string;
  default?: unknown;
  deprecated?: boolean;
  /** "" is allowed too (it clears the field): not validated against the kind. */
  emptyClears?: boolean;
  /**
   * `null` is refused, naming the parameter (an update's field that nothing unsets: leaving it out
   * keeps it). Otherwise `null` is taken as not given. A URL's `null` always unsets it.
   */
  nullRefused?: boolean;
}

/**
 * Declares an optional request parameter of a DTO from its kind: validation with a message that
 * names the parameter and the rule (JSON or form values alike), and its OpenAPI entry. What the
 * field tables in contracts say becomes the HTTP API here, in one place.
 */
export function declareField(
  dto: abstract new () => object,
  name: string,
  kind: FieldKind,
  doc: FieldDoc,
): void {
  const target = dto.prototype as object;
  const apply = (...decorators: PropertyDecorator[]) => {
    if (doc.emptyClears) ValidateIf((o: Record<string, unknown>) => o[name] !== '')(target, name);
    decorators.forEach((d) => d(target, name));
  };
  const api = { description: doc.description, default: doc.default ?? undefined, deprecated: doc.deprecated };
  // Left out: nothing is checked. Given as null: not given, unless refused (then it must be a value).
  const optional = doc.nullRefused
    ? [
        ValidateIf((o: Record<string, unknown>) => o[name] !== undefined),
        IsDefined({ message: `${name} cannot be null: leave it out to keep its value` }),
      ]
    : [IsOptional()];
  switch (kind.type) {
    case 'int': {
      const seconds = kind.unit === 'seconds' ? ' seconds' : '';
      const range = `${name} must be between ${kind.min} and ${kind.max}${seconds}`;
      apply(
        ApiPropertyOptional({ ...api, type: 'integer', minimum: kind.min, maximum: kind.max }),
        ...optional,
        Transform(({ value }) => toInteger(value)),
        IsInt({ message: `${name} must be an integer${seconds ? ' number of seconds' : ''}` }),
        Min(kind.min, { message: range }),
        Max(kind.max, { message: range }),
      );
      return;
    }
    case 'bool':
      apply(
        ApiPropertyOptional({ ...api, type: 'boolean' }),
        ...optional,
        Transform(({ value }) => toBoolean(value)),
        IsBoolean({ message: `${name} must be true or false` }),
      );
      return;
    case 'url':
      apply(ApiPropertyOptional({ ...api, type: 'string', format: 'uri' }), IsOptional(), IsPlivoUrl(name));
      return;
    case 'text': {
      const size = kind.min > 0 ? `${kind.min} to ${kind.max} characters` : `at most ${kind.max} characters`;
      apply(
        ApiPropertyOptional({ ...api, type: 'string', minLength: kind.min, maxLength: kind.max }),
        ...optional,
        Transform(({ value }) => toTrimmedString(value)),
        IsString({ message: `${name} must be a string` }),
        Length(kind.min, kind.max, { message: `${name} must be ${size}` }),
      );
      return;
    }
    case 'choice': {
      const words = kind.values.length === 2 ? kind.values.join(' or ') : `one of ${kind.values.join(', ')}`;
      apply(
        ApiPropertyOptional({ ...api, enum: [...kind.values] }),
        ...optional,
        ...(kind.upperCase
          ? [Transform(({ value }) => (typeof value === 'string' ? value.toUpperCase() : value))]
          : []),
        IsIn([...kind.values], { message: `${name} must be ${words}` }),
      );
      return;
    }
  }
}

/** A parameter this request does not take although another one does: a 400 that says so. */
export function declareRefused(dto: abstract new () => object, name: string, message: string): void {
  registerDecorator({
    name: 'refusedHere',
    target: dto,
    propertyName: name,
    options: { message },
    validator: { validate: (value: unknown) => value === undefined },
  });
}
