/**
 * Indices of values with no value on either side: a line cannot draw them (a single sampled minute
 * among empty ones), so the chart marks them as dots instead.
 */
export function isolatedIndices(values: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) continue;
    const before = i > 0 ? values[i - 1] : null;
    const after = i < values.length - 1 ? values[i + 1] : null;
    if (before === null && after === null) out.push(i);
  }
  return out;
}
