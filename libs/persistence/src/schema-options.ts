import type { SchemaOptions } from 'mongoose';

/**
 * Options every schema shares. Indexes are never built implicitly (`autoIndex: false`): the
 * IndexSynchronizer builds them at boot and fails the boot if one cannot be built, instead of
 * leaving a silent model event. `_id` is a string chosen by the service (a UUID or a natural key).
 */
export const baseSchemaOptions = {
  versionKey: false,
  autoIndex: false,
  autoCreate: true,
  minimize: false,
  strict: true,
  timestamps: { createdAt: 'createdAt', updatedAt: 'updatedAt' },
} as const satisfies SchemaOptions;
