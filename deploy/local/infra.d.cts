import type { ChildProcess } from 'node:child_process';

export class InfraError extends Error {}

export interface RunningProcess {
  url: string;
  port: number;
  pid: number | undefined;
  dir: string;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface RunningStore extends RunningProcess {
  kind: 'mongod' | 'ferretdb';
  /** FerretDB's backend (absent for mongod). */
  backend?: 'postgresql' | 'sqlite';
}

export const ROOT: string;
export function which(cmd: string): string | undefined;
export function freePort(): Promise<number>;
/** Where freePort chooses for this process, or for jest worker `worker` (a slice of its own). */
export function portRange(worker?: number): { from: number; size: number };
export function portOpen(port: number, host?: string): Promise<boolean>;
export function waitForPort(
  port: number,
  options?: { timeoutMs?: number; child?: ChildProcess; name?: string; logFile?: string },
): Promise<void>;
export function ensureFerretdbBinary(options?: { log?: (line: string) => void }): string;
/** The go command (PATH, or /usr/local/go/bin/go), if installed. */
export function goBinary(): string | undefined;
export function startNats(options?: {
  port?: number;
  dir?: string;
  detached?: boolean;
}): Promise<RunningProcess>;
export function startStore(options?: {
  port?: number;
  dir?: string;
  detached?: boolean;
  log?: (line: string) => void;
}): Promise<RunningStore>;
/** The PostgreSQL server FerretDB runs on when it answers (STORE_POSTGRESQL_URL, or loopback's). */
export function postgresqlUrl(): string;
/** Whether that server takes connections on its port. */
export function postgresqlAnswers(): Promise<boolean>;
export function up(options?: {
  log?: (line: string) => void;
}): Promise<{ natsUrl: string; mongoUrl: string }>;
export function down(options?: { log?: (line: string) => void }): Promise<void>;
export interface NatsClusterNode {
  name: string;
  port: number;
  url: string;
  logFile: string;
  child: ChildProcess | undefined;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}
export function startNatsCluster(options?: {
  size?: number;
  dir?: string;
}): Promise<{ url: string; nodes: NatsClusterNode[]; dir: string; stop(): Promise<void> }>;
