export type PinAttemptOutcome = 'success' | 'failed' | 'locked' | 'authorized_caller';

/** One PIN prompt on a call into the session's virtual number. The caller is masked; digits never travel. */
export interface PinAttempt {
  /** ISO 8601. */
  time: string;
  call_uuid: string | null;
  virtual_number: string | null;
  /** Masked by the server, e.g. "+49 15•••••23". */
  caller: string | null;
  outcome: PinAttemptOutcome | string;
  /** Which entry of the call this was, 1 for the first (the contract's name). */
  retry_counter?: number | null;
  /** The same, as the gateway currently names it. */
  attempt?: number | null;
  /** For a lock: what was locked. */
  lock_reason?: 'call' | 'caller' | 'number' | string | null;
}

export interface PinAttemptsResponse {
  api_id: string;
  objects: PinAttempt[];
}

export interface PinSecurityBucket {
  time: string;
  successes: number;
  failures: number;
  lockouts: number;
}

export interface PinSecurityResponse {
  api_id: string;
  interval_seconds: number;
  buckets: PinSecurityBucket[];
  by_number: { virtual_number: string; failures: number; lockouts: number }[];
  /** `caller` is masked, so two callers can look alike; `caller_key` (when sent) tells them apart. */
  by_caller: { caller: string; caller_key?: string; failures: number; lockouts: number }[];
}
