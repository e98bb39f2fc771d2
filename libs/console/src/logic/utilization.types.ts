/** The number pool right now: GET …/Masking/Utilization/. */
export interface UtilizationResponse {
  api_id: string;
  numbers_total: number;
  numbers_in_use: number;
  live_sessions: number;
  sessions_per_number: { max: number; mean: number };
  /** Δ: the most live sessions any one party has. */
  delta: number;
  /** Plivo's sizing rule for Δ: 2Δ − 1 numbers. */
  plivo_rule_numbers: number;
  numbers_by_country: { country: string; numbers_total: number; numbers_in_use: number }[];
}

/** One minute of pool history; minutes without a sample are missing. */
export interface UtilizationPoint {
  /** ISO 8601, on the minute. */
  time: string;
  numbers_total: number;
  numbers_in_use: number;
  live_sessions: number;
  delta: number;
  /** Allocations refused in that minute for lack of numbers (absent when the server lists them separately). */
  exhaustions?: number;
}

/** Allocations refused for lack of numbers in one minute. */
export interface ExhaustionEvent {
  time: string;
  count: number;
}

export interface UtilizationHistoryResponse {
  api_id: string;
  interval_seconds: number;
  points: UtilizationPoint[];
  /** The gateway may list refused allocations here instead of on each point; when present it wins. */
  exhaustions?: ExhaustionEvent[];
}
