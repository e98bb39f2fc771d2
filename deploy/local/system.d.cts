import type { ChildProcess } from 'node:child_process';

export type ServiceName =
  | 'session-service'
  | 'number-pool'
  | 'pin-auth'
  | 'call-router'
  | 'callback-dispatcher'
  | 'gateway';

export interface ServiceProcess {
  service: ServiceName;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const SERVICES: ServiceName[];
export const DIST: string;
export function assertBuilt(): void;
export function startService(
  service: ServiceName,
  env: Record<string, string>,
  onLine?: (service: ServiceName, line: string) => void,
): ServiceProcess;
export function waitForHealthy(
  baseUrl: string,
  options?: { timeoutMs?: number; processes?: ServiceProcess[] },
): Promise<unknown>;
export function startSystem(options: {
  env: Record<string, string>;
  envFor?: (service: ServiceName) => Record<string, string>;
  baseUrl: string;
  onLine?: (service: ServiceName, line: string) => void;
  timeoutMs?: number;
}): Promise<{ processes: ServiceProcess[]; stopAll(signal?: NodeJS.Signals): Promise<void> }>;
