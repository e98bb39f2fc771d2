/**
 * Whole numbers at or above 0, ascending (times in ms, say), packed: each the difference from the
 * one before (the first from 0) as a base-128 varint, in base64: 3–4 characters each at a few
 * seconds apart. Undefined when one is not a safe whole number at or above 0, or they do not
 * ascend: anything else would unpack shifted.
 */
export function packAscending(ascending: readonly number[]): string | undefined {
  const bytes: number[] = [];
  let previous = 0;
  for (const t of ascending) {
    if (!Number.isSafeInteger(t) || t < previous) return undefined;
    let delta = t - previous;
    previous = t;
    while (delta >= 128) {
      bytes.push((delta % 128) + 128);
      delta = Math.floor(delta / 128);
    }
    bytes.push(delta);
  }
  return Buffer.from(bytes).toString('base64');
}

/** `packAscending` undone: the numbers, ascending. */
export function unpackAscending(packed: string): number[] {
  const numbers: number[] = [];
  let previous = 0;
  let delta = 0;
  let scale = 1;
  for (const byte of Buffer.from(packed, 'base64')) {
    delta += (byte % 128) * scale;
    if (byte >= 128) {
      scale *= 128;
      continue;
    }
    previous += delta;
    numbers.push(previous);
    delta = 0;
    scale = 1;
  }
  return numbers;
}
