import { z } from 'zod';

/**
 * What kind of value a declared API field holds, with its rule. One kind gives the runtime schema
 * (here), the HTTP validation and OpenAPI (the gateway) and the wire rendering (the views).
 */
export type FieldKind =
  | { readonly type: 'int'; readonly min: number; readonly max: number; readonly unit?: 'seconds' }
  | { readonly type: 'bool' }
  /** An absolute http(s) URL of at most 2048 characters; unset is null. */
  | { readonly type: 'url' }
  /** One of a few words; `upperCase` accepts any case (HTTP methods). */
  | { readonly type: 'choice'; readonly values: readonly [string, ...string[]]; readonly upperCase?: boolean }
  /** Free text (trimmed), `min` to `max` characters. */
  | { readonly type: 'text'; readonly min: number; readonly max: number };

export const int = (min: number, max: number, unit?: 'seconds') => ({ type: 'int', min, max, unit }) as const;
export const bool = { type: 'bool' } as const;
export const url = { type: 'url' } as const;
export const text = (min: number, max: number) => ({ type: 'text', min, max }) as const;
export const choice = <const V extends readonly [string, ...string[]]>(values: V, upperCase = false) =>
  ({ type: 'choice', values, upperCase }) as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The value a field of this kind holds. */
export type ValueOf<K extends FieldKind> = K extends { type: 'int' }
  ? number
  : K extends { type: 'bool' }
    ? boolean
    : K extends { type: 'url' }
      ? string | null
      : K extends { type: 'choice'; values: infer V extends readonly string[] }
        ? V[number]
        : K extends { type: 'text' }
          ? string
          : never;

/** The zod schema of a field of this kind. */
export type ZodOf<K extends FieldKind> = K extends { type: 'int' }
  ? z.ZodNumber
  : K extends { type: 'bool' }
    ? z.ZodBoolean
    : K extends { type: 'url' }
      ? z.ZodNullable<z.ZodString>
      : K extends { type: 'choice'; values: infer V extends readonly [string, ...string[]] }
        ? z.ZodEnum<Mutable<V>>
        : K extends { type: 'text' }
          ? z.ZodString
          : never;

export function zodOf<K extends FieldKind>(kind: K): ZodOf<K> {
  switch (kind.type) {
    case 'int':
      return z.number().int().min(kind.min).max(kind.max) as ZodOf<K>;
    case 'bool':
      return z.boolean() as ZodOf<K>;
    case 'url':
      return z.string().url().max(2048).nullable() as ZodOf<K>;
    case 'choice':
      return z.enum(kind.values as [string, ...string[]]) as unknown as ZodOf<K>;
    case 'text':
      return z.string().min(kind.min).max(kind.max) as ZodOf<K>;
  }
  throw new Error('unknown field kind');
}

/** A zod object of every field in a table, keyed as the table is. */
export function zodObjectOf<T extends Record<string, { kind: FieldKind }>>(
  fields: T,
): z.ZodObject<{ [F in keyof T]: ZodOf<T[F]['kind']> }, 'strict'> {
  const shape = Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, zodOf(f.kind)]));
  return z.object(shape).strict() as unknown as z.ZodObject<
    { [F in keyof T]: ZodOf<T[F]['kind']> },
    'strict'
  >;
}

/** The fields of a table a flag selects, each optional: a request shape derived from the table. */
export function optionalShapeOf<T extends Record<string, { kind: FieldKind }>, K extends keyof T & string>(
  fields: T,
  select: (field: T[keyof T]) => boolean,
): { [F in K]: z.ZodOptional<ZodOf<T[F]['kind']>> } {
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, f]) => select(f as T[keyof T]))
      .map(([key, f]) => [key, zodOf(f.kind).optional()]),
  ) as { [F in K]: z.ZodOptional<ZodOf<T[F]['kind']>> };
}
