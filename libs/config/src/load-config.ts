import { z } from 'zod';
import { commonServiceConfigRules } from './common-service.config';

/** Marks a config variable as secret: it is never printed, logged, or echoed in an error. */
export function secret<T extends z.ZodTypeAny>(schema: T): T {
  return schema.describe('secret') as T;
}

export class ConfigValidationError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** A config schema: an object of variables, possibly with cross-variable rules (`.refine`). */
export type ConfigSchema = z.ZodObject<z.ZodRawShape> | z.ZodEffects<z.ZodObject<z.ZodRawShape>>;

function shapeOf(schema: ConfigSchema): z.ZodRawShape {
  return schema instanceof z.ZodEffects ? schema.innerType().shape : schema.shape;
}

/**
 * Reads and validates a service's environment once, failing at boot with every bad variable listed.
 * Values of secret variables never appear in the message. Rules between the common variables
 * (`commonServiceConfigRules`) are checked for every service that reads them.
 */
export function loadConfig<S extends ConfigSchema>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shapeOf(schema))) {
    const value = env[key];
    input[key] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(input);
  if (result.success) {
    const data = result.data as Record<string, unknown>;
    const broken = commonServiceConfigRules.filter(
      (rule) => rule.keys.every((key) => key in data) && !rule.holds(data),
    );
    if (broken.length === 0) return result.data;
    throw new ConfigValidationError(
      service,
      broken.map((rule) => `${rule.path}: ${rule.message}`),
    );
  }
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(config)';
    return `${key}: ${issue.message}`;
  });
  throw new ConfigValidationError(service, problems);
}

/** The names of the variables a schema marks secret (for docs and redaction). */
export function secretKeys(schema: ConfigSchema): string[] {
  return Object.entries(shapeOf(schema))
    .filter(([, s]) => isSecret(s as z.ZodTypeAny))
    .map(([k]) => k);
}

function isSecret(s: z.ZodTypeAny): boolean {
  let cur: z.ZodTypeAny | undefined = s;
  while (cur) {
    if (cur.description === 'secret') return true;
    const def = cur._def as { innerType?: z.ZodTypeAny; schema?: z.ZodTypeAny };
    cur = def.innerType ?? def.schema;
  }
  return false;
}
