import type { ListMeta } from './console-session.types';

export interface OperatorAccount {
  auth_id: string;
  name: string;
  enabled: boolean;
  /** The contract's name for the creation time. */
  created_time?: string | null;
  /** The same, as the gateway's account view names it. */
  created?: string | null;
  /** A count; tolerated as the list of subaccounts too, or absent. */
  subaccounts?: number | unknown[] | null;
}

export interface AccountListResponse {
  api_id: string;
  meta: ListMeta;
  objects: OperatorAccount[];
}

export interface HealthPart {
  status: string;
  detail?: string | null;
}

export interface ServiceHealth {
  service: string;
  status: 'up' | 'down' | string;
  detail?: string | null;
  checks?: Record<string, HealthPart> | null;
}

export type BreakerState = 'open' | 'half-open' | 'closed';

export interface BreakerStatus {
  service: string;
  name: string;
  state: BreakerState | string;
}

export interface ConsumerStatus {
  stream: string;
  consumer: string;
  pending: number;
  ack_pending: number;
  redelivered: number;
}

export interface SystemResponse {
  api_id: string;
  status: 'up' | 'degraded' | string;
  nats: HealthPart;
  store: HealthPart;
  services: Record<string, ServiceHealth>;
  breakers: BreakerStatus[];
  consumers: ConsumerStatus[];
}
