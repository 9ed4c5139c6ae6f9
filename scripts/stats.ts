/** Small helpers every benchmark script shares: medians and markdown tables. No tfjs, no backend. */

/** The median (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One decimal, or '–' for a missing value. */
export const f1 = (x: number | null | undefined) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(1));

/** A markdown table. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A whole number with thousands separators, or '–' for a missing value. */
export const f0 = (x: number | null | undefined) =>
  x == null || Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en');

/** A share as a whole percentage; '–' when undefined (NaN). */
export const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(100 * x)} %` : '–');

/** Euclidean norm of a flat array. */
export const norm = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
