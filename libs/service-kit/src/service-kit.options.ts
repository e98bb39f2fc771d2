import type { Type } from '@nestjs/common';
import type { Logger } from 'pino';
import type { CommonServiceConfig } from '@maskline/config';
import type { ServiceName } from '@maskline/contracts';
import type { RpcErrorFilter } from '@maskline/messaging';

export interface ServiceKitOptions {
  service: ServiceName;
  config: CommonServiceConfig & { MASKLINE_VERSION?: string };
  /** This service's own database, when it has one. */
  store?: { uri: string; dbName: string };
  /** The service's one RPC error filter. */
  errorFilter?: Type<RpcErrorFilter>;
  /** A logger to use instead of one built from config (tests capture lines with it). */
  logger?: Logger;
}

export const SERVICE_KIT_OPTIONS = Symbol('SERVICE_KIT_OPTIONS');
/** The service's whole typed config object, injectable anywhere in the service. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
