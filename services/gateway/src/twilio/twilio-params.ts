import { CodedError, zodOf, type FieldKind } from '@maskline/contracts';

interface ParamSpec {
  readonly param: string;
  readonly kind: FieldKind;
  readonly required?: true;
}

/**
 * Reads Twilio's form parameters by a field table: each parameter by its Twilio name, numbers and
 * booleans from their form text, an empty value clearing a URL or text (as Twilio's API does).
 * A parameter the table does not know, or a value out of its rule, is a 400 that names it.
 */
export function readTwilioParams<K extends string>(
  fields: ReadonlyArray<readonly [K, ParamSpec]>,
  body: unknown,
  { create }: { create: boolean },
): Partial<Record<K, unknown>> {
  const params = (body ?? {}) as Record<string, unknown>;
  const known = new Set(fields.map(([, f]) => f.param));
  for (const name of Object.keys(params)) {
    if (!known.has(name)) throw CodedError.validation(name, `${name} is not a parameter of this resource`);
  }
  const out: Partial<Record<K, unknown>> = {};
  for (const [key, field] of fields) {
    const raw = params[field.param];
    if (raw === undefined) {
      if (create && field.required) throw CodedError.validation(field.param, `${field.param} is required`);
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw CodedError.validation(field.param, `${field.param} must be given once, as a single value`);
    }
    out[key] = valueOf(field, String(raw));
  }
  return out;
}

function valueOf(field: ParamSpec, raw: string): unknown {
  const { kind, param } = field;
  const fail = (rule: string): never => {
    throw CodedError.validation(param, `${param} ${rule}`);
  };
  switch (kind.type) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) fail(`must be a whole number from ${kind.min} to ${kind.max}`);
      const n = Number(raw.trim());
      if (n < kind.min || n > kind.max) fail(`must be a whole number from ${kind.min} to ${kind.max}`);
      return n;
    }
    case 'bool':
      if (raw !== 'true' && raw !== 'false') fail('must be true or false');
      return raw === 'true';
    case 'choice':
      if (!kind.values.includes(raw)) fail(`must be one of ${kind.values.join(', ')}`);
      return raw;
    case 'url':
      if (raw === '') return null;
      if (!zodOf(kind).safeParse(raw).success || !/^https?:\/\//i.test(raw))
        fail('must be an absolute http(s) URL of at most 2048 characters');
      return raw;
    case 'text': {
      const text = raw.trim();
      if (text === '' && field.required) fail(`must be 1 to ${kind.max} characters`);
      if (text === '') return null;
      if (text.length < kind.min || text.length > kind.max)
        fail(`must be ${kind.min} to ${kind.max} characters`);
      return text;
    }
  }
}
