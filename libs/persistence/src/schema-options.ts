import type { SchemaOptions } from 'mongoose';

/**
 * Options every schema shares. Neither collections nor indexes are made implicitly (`autoCreate`,
 * `autoIndex`: false): the IndexSynchronizer makes what is missing at boot and fails the boot if it
 * cannot, instead of leaving a silent model event. (A schema's `autoCreate: true` outranked the
 * connection's false: every boot sent a `create` of every collection, each one FerretDB's catalogue
 * write lock, answered "already exists": 15 of them per session-service replica in a rolling
 * restart.) `_id` is a string chosen by the service (a UUID or a natural key).
 */
export const baseSchemaOptions = {
  versionKey: false,
  autoIndex: false,
  autoCreate: false,
  minimize: false,
  strict: true,
  timestamps: { createdAt: 'createdAt', updatedAt: 'updatedAt' },
} as const satisfies SchemaOptions;
