export interface BreakerSettings {
  /** A call slower than this counts as a failure (the call itself is not cancelled: give it its own timeout). */
  timeoutMs: number;
  errorThresholdPercentage: number;
  resetTimeoutMs: number;
  volumeThreshold: number;
  rollingCountTimeoutMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  timeoutMs: 3000,
  errorThresholdPercentage: 50,
  resetTimeoutMs: 5000,
  volumeThreshold: 10,
  rollingCountTimeoutMs: 10000,
};
