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

/**
 * The seed of a randomized test: from `envName` when set (to replay a
 * failure), else new for each run.
 *
 * @param envName Variable that replays a seed, e.g. `POWER_CUT_SEED`.
 * @returns The seed and its generator.
 */
export function seeded(envName: string): {
  seed: number;
  random: () => number;
  envName: string;
} {
  const given = Deno.env.get(envName);
  const seed = given !== undefined && given !== ""
    ? Number(given)
    : Math.floor(Math.random() * 1_000_000);
  return { seed, random: prng(seed), envName };
}

/**
 * Adds the seed and how to replay it to a test failure, so every failed
 * assertion of a randomized test names its seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const err = withSeedNote(new Error("events differ"), { seed: 42, envName: "POWER_CUT_SEED" });
 * assert.equal((err as Error).message, "events differ (seed 42; replay with POWER_CUT_SEED=42)");
 * ```
 * @param err What the test threw.
 * @param s The seed (see {@linkcode seeded}).
 * @returns The same error, its message extended.
 */
export function withSeedNote(
  err: unknown,
  s: { seed: number; envName: string },
): unknown {
  const note = `(seed ${s.seed}; replay with ${s.envName}=${s.seed})`;
  if (err instanceof Error && !err.message.includes(note)) {
    err.message = `${err.message} ${note}`;
  }
  return err;
}
