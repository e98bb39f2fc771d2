/** What routing-index.bench.ts and its replica processes say to each other over IPC. */
export type LookupKind = 'answer' | 'number';

export type ReplicaRequest = { type: 'round'; kind: LookupKind } | { type: 'finish' };

export type ReplicaReply =
  | { type: 'loaded'; sessions: number; numbers: number; indexBytes: number; loadMs: number }
  | { type: 'round'; kind: LookupKind; p99: number }
  | {
      type: 'finished';
      latency: Record<LookupKind, { p50: number; p99: number; count: number }>;
      storeReads: number;
      wrongDecisions: number;
    };

/** Calls per round; the same at every size. */
export const CALLS_PER_ROUND = 10_000;
