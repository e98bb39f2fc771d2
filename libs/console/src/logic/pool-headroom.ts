/**
 * How many numbers to add so the pool keeps a chosen headroom.
 *
 *   needed = max(numbers in use now, peak numbers in use over the last 24 h, Plivo's rule 2Δ − 1)
 *   target = ceil(needed × (1 + headroom / 100))
 *   add    = max(0, target − numbers total)
 *
 * Plivo's rule is the pool size at which the busiest party (Δ live sessions) can always be given a number it
 * does not already share with someone else, so it counts as "needed" even when fewer numbers are in use.
 */
export interface HeadroomInput {
  numbersTotal: number;
  numbersInUse: number;
  plivoRuleNumbers: number;
  /** Peak numbers in use over the history window; null when there is no history. */
  peakInUse: number | null;
}

export interface HeadroomAdvice {
  headroomPercent: number;
  needed: number;
  target: number;
  toAdd: number;
}

export const DEFAULT_HEADROOM_PERCENT = 20;
export const MAX_HEADROOM_PERCENT = 1000;

export type HeadroomPercentReading = { ok: true; percent: number } | { ok: false; message: string };

/** Reads the "Headroom (%)" input: a number from 0 to 1000. */
export function readHeadroomPercent(text: string): HeadroomPercentReading {
  const trimmed = text.trim();
  const percent = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(percent) || percent < 0 || percent > MAX_HEADROOM_PERCENT) {
    return { ok: false, message: `Enter a headroom from 0 to ${MAX_HEADROOM_PERCENT} percent.` };
  }
  return { ok: true, percent };
}

export function adviseHeadroom(input: HeadroomInput, headroomPercent: number): HeadroomAdvice {
  const needed = Math.max(0, input.numbersInUse, input.peakInUse ?? 0, input.plivoRuleNumbers);
  // Rounded before ceil: 100 × 1.1 is 110.00000000000001 in floating point, which must not become 111.
  const scaled = Math.round(needed * (100 + headroomPercent) * 1e6) / 1e8;
  const target = Math.ceil(scaled);
  return { headroomPercent, needed, target, toAdd: Math.max(0, target - input.numbersTotal) };
}

const percentText = (percent: number): string => `${Number(percent.toFixed(2))}%`;

/** "Add 3 numbers to keep 20% headroom." or "Enough numbers for 20% headroom." */
export function describeHeadroom(advice: HeadroomAdvice): string {
  const percent = percentText(advice.headroomPercent);
  if (advice.toAdd === 0) return `Enough numbers for ${percent} headroom.`;
  return `Add ${advice.toAdd} ${advice.toAdd === 1 ? 'number' : 'numbers'} to keep ${percent} headroom.`;
}
