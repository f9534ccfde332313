/**
 * Exact decimal arithmetic on JSON numbers, for money: a JSON number is read as
 * the decimal it was written as (its shortest round-trip form), never as a
 * binary float, so `0.1 + 0.2` problems cannot make a correct total look wrong.
 */
export interface Decimal {
  /** value = units × 10^-scale */
  readonly units: bigint;
  readonly scale: number;
}

const NUMBER_RE = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

export function decimal(n: number): Decimal {
  const m = NUMBER_RE.exec(String(n));
  if (!m) throw new RangeError(`not a finite number: ${n}`);
  const [, sign = '', int = '0', frac = '', exp = '0'] = m;
  let digits = int + frac;
  let scale = frac.length - Number(exp);
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  return { units: BigInt(sign + digits), scale };
}

/** `d` rounded to `scale` decimals, half away from zero (as PostgreSQL rounds numeric). */
export function roundTo(d: Decimal, scale: number): bigint {
  if (d.scale <= scale) return d.units * 10n ** BigInt(scale - d.scale);
  const div = 10n ** BigInt(d.scale - scale);
  const neg = d.units < 0n;
  const abs = neg ? -d.units : d.units;
  const q = (abs + div / 2n) / div;
  return neg ? -q : q;
}

/** The number in cents when it has at most 2 decimals, else undefined. */
export function exactCents(n: number): bigint | undefined {
  const d = decimal(n);
  return d.scale <= 2 ? roundTo(d, 2) : undefined;
}

/** round(a × b, 2) in cents, computed exactly. */
export function productCents(a: number, b: number): bigint {
  const x = decimal(a);
  const y = decimal(b);
  return roundTo({ units: x.units * y.units, scale: x.scale + y.scale }, 2);
}

export function formatCents(c: bigint): string {
  const neg = c < 0n;
  const abs = (neg ? -c : c).toString().padStart(3, '0');
  return `${neg ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}`;
}
