/**
 * The benchmark's statistics: pure functions over plain numbers, unit-tested in
 * test/unit/bench-stats.test.ts.
 */

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Sorted copy, ascending; NaN and infinities are refused (a sample is a measurement). */
export function sorted(values: readonly number[]): number[] {
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  return [...values].sort((a, b) => a - b);
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of already sorted values, by linear
 * interpolation between closest ranks (rank = p/100 × (n − 1); numpy's default,
 * R type 7). p50 of [1, 2, 3, 4] is 2.5; p99 of 50 values lies between the two largest.
 */
export function percentileSorted(s: readonly number[], p: number): number {
  if (s.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = s[lo] as number;
  const b = s[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(sorted(values), p);
}

export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  if (s.length === 0) throw new RangeError('summary of no values');
  return {
    n: s.length,
    min: s[0] as number,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: percentileSorted(s, 50),
    p95: percentileSorted(s, 95),
    p99: percentileSorted(s, 99),
    max: s[s.length - 1] as number,
  };
}

/** The item with the highest `value`, the first of equals; `what` names the items for the error when there are none. */
export function maxBy<T>(items: readonly T[], value: (item: T) => number, what: string): T {
  if (items.length === 0) throw new Error(`no ${what} measured`);
  return items.reduce((a, b) => (value(b) > value(a) ? b : a));
}

/** Events per second: `count` events in `ms` milliseconds. */
export function ratePerSecond(count: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`elapsed time must be positive, got ${ms} ms`);
  if (!(count >= 0)) throw new RangeError(`count must not be negative, got ${count}`);
  return (count * 1000) / ms;
}

/** Points of the empirical CDF: for each sorted value v_i, the fraction i/n of values ≤ v_i. */
export function cdf(values: readonly number[]): Array<{ x: number; y: number }> {
  const s = sorted(values);
  return s.map((x, i) => ({ x, y: (i + 1) / s.length }));
}

/** The value's index in `values` whose value is the median (the lower one of an even count). */
export function medianIndex(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return (order[Math.floor((order.length - 1) / 2)] as readonly [number, number])[1];
}

/**
 * How a figure stands against its target. For an upper bound (`≤ target`) the
 * miss is by how much it exceeds it; for a lower bound (`≥ target`), by how much it falls short.
 * `byPct` is relative to the target.
 */
export interface Verdict {
  readonly pass: boolean;
  readonly by: number;
  readonly byPct: number;
}

export function judge(value: number, target: number, kind: 'max' | 'min'): Verdict {
  const pass = kind === 'max' ? value <= target : value >= target;
  const by = pass ? 0 : Math.abs(value - target);
  return { pass, by, byPct: target === 0 ? (pass ? 0 : Infinity) : (by / Math.abs(target)) * 100 };
}

/** The speed-up of `ms` against a range of reference durations, e.g. 8,000-15,000 ms → [lo×, hi×]. */
export function speedUp(ms: number, refLoMs: number, refHiMs: number): [number, number] {
  if (!(ms > 0)) throw new RangeError(`duration must be positive, got ${ms} ms`);
  return [refLoMs / ms, refHiMs / ms];
}
