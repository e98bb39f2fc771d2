import { z } from 'zod';
import { defineRpc, SERVICE_NAMES, type ServiceName } from '../contract';

export const healthStatusSchema = z.enum(['up', 'down']);
export type HealthStatus = z.infer<typeof healthStatusSchema>;

export const healthCheckResultSchema = z.object({
  status: healthStatusSchema,
  detail: z.string().optional(),
});
export type HealthCheckResult = z.infer<typeof healthCheckResultSchema>;

export const serviceHealthSchema = z.object({
  service: z.string(),
  status: healthStatusSchema,
  checks: z.record(healthCheckResultSchema),
  uptimeSeconds: z.number(),
  version: z.string(),
  instance: z.string(),
  /** Breakers of this replica that are not closed (for the operator only: names may hold customer hosts). */
  breakers: z.array(z.object({ name: z.string(), state: z.enum(['open', 'half-open']) })).optional(),
});
export type ServiceHealth = z.infer<typeof serviceHealthSchema>;

const healthRequestSchema = z.object({}).strict();

function healthContractFor<S extends ServiceName>(service: S) {
  return defineRpc(service, `${service}.health.v1`, healthRequestSchema, serviceHealthSchema);
}

/** `<service>.health.v1`: each service answers with its own checks (NATS, store, ...). */
export const HealthContracts = Object.fromEntries(SERVICE_NAMES.map((s) => [s, healthContractFor(s)])) as {
  [S in ServiceName]: ReturnType<typeof healthContractFor<S>>;
};
