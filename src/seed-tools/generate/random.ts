import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Seeded randomness for the generator, on pure-rand's xoroshiro128+.
 *
 * Every part of a profile draws from its own stream, `Rng.root(seed).fork(label)`,
 * whose state is a hash of the seed and the label alone. So the same seed and
 * arguments always give the same bytes, and a part that grows with an argument
 * (the sales history with `--scale`) does not move the values of the others.
 */
export class Rng {
  private readonly gen: RandomGenerator;

  private constructor(
    private readonly seed: number,
    private readonly label: string,
  ) {
    this.gen = xoroshiro128plusFromState(stateFor(`${seed}/${label}`));
  }

  static root(seed: number): Rng {
    return new Rng(seed, '');
  }

  /** An independent stream named `label` under this one. */
  fork(label: string): Rng {
    return new Rng(this.seed, this.label === '' ? label : `${this.label}/${label}`);
  }

  /** Integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  /** Float in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Float in [from, to). */
  between(from: number, to: number): number {
    return from + (to - from) * this.float();
  }

  /** `value` times a factor drawn in [1 - spread, 1 + spread). */
  jitter(value: number, spread: number): number {
    return value * this.between(1 - spread, 1 + spread);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A new array with `items` in random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  /** A random UUID version 4 (RFC 9562), lower case. */
  uuid(): string {
    const h = hex8(this.gen.next()) + hex8(this.gen.next()) + hex8(this.gen.next()) + hex8(this.gen.next());
    const variant = VARIANT[parseInt(h[16] as string, 16) & 3] as string;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const VARIANT = ['8', '9', 'a', 'b'];

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** cyrb128: four 32-bit words from a string, never all zero. */
function stateFor(text: string): number[] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const state: number[] = [h1 | 0, h2 | 0, h3 | 0, h4 | 0];
  if (!state.some((w) => w !== 0)) state[0] = 1;
  return state;
}
