/**
 * Seeded randomness for tests that pick random points (kills, faults), so a
 * failing run can be replayed from the seed it printed.
 *
 * @module
 */

/**
 * A small seeded PRNG (mulberry32).
 *
 * @example Same seed, same numbers
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(prng(7)(), prng(7)());
 * ```
 * @param seed Any integer.
 * @returns A function giving numbers in [0, 1).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
