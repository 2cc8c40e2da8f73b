/**
 * mulberry32: a tiny, fast, seedable PRNG (32-bit state). Same seed, same sequence, on every
 * platform: the simulator never touches Math.random.
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Standard normal (Box–Muller; one draw per call keeps the stream easy to reason about). */
  gauss(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** True with the probability that a Poisson event of `ratePerS` happens within `dtS` seconds. */
  chance(ratePerS: number, dtS: number): boolean {
    return this.next() < 1 - Math.exp(-ratePerS * dtS);
  }
}

/**
 * A 32-bit seed for one named stream (FNV-1a over the seed and the name, then a final mix), so
 * each machine has its own generator: adding a machine never changes the others.
 */
export function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}|${name}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
