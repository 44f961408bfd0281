/**
 * Pure plate-text helpers shared by the outbox search, the Postgres search
 * and plate-of-interest matching: normalisation, edit distance, and turning a
 * user's pattern (`*` / `?` wildcards, or a plain substring) into a SQL LIKE
 * pattern. No I/O.
 *
 * @module
 */

/**
 * Upper-cases `text` and keeps only A-Z and 0-9, so "ab-123 cd" and
 * "AB123CD" compare equal.
 *
 * @example Normalising
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(normalizePlate("ab-123 cd"), "AB123CD");
 * ```
 * @param text Plate text as typed or read.
 * @returns The normalised text.
 */
import { editDistance } from "../shared/mod.ts";

export function normalizePlate(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]/g, "");
}

export { editDistance };

/** Returns true when `pattern` holds a `*` or `?` wildcard. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/**
 * Turns a user's plate pattern into a LIKE pattern over normalised plates.
 * With `*` (any run) or `?` (one character) the pattern must match the whole
 * plate; without wildcards it matches anywhere in the plate (substring).
 * Characters other than A-Z, 0-9 and the wildcards are dropped, so the result
 * never holds `%`/`_` from the input and needs no escaping.
 *
 * @example Wildcards and substrings
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(plateLikePattern("ab1*"), "AB1%");
 * assert.equal(plateLikePattern("b12"), "%B12%");
 * ```
 * @param pattern The user's pattern.
 * @returns The LIKE pattern.
 * @throws {TypeError} When nothing searchable is left.
 */
export function plateLikePattern(pattern: string): string {
  const cleaned = pattern.toUpperCase().replace(/[^A-Z0-9*?]/g, "");
  if (cleaned.replace(/[*?]/g, "").length === 0 && !cleaned.includes("?")) {
    throw new TypeError(
      `Cannot search plates as the pattern has no letters or digits: current value is ${
        JSON.stringify(pattern)
      }`,
    );
  }
  if (!hasWildcard(cleaned)) return `%${cleaned}%`;
  return cleaned.replaceAll("*", "%").replaceAll("?", "_");
}

/**
 * LIKE patterns that together match exactly the strings within `maxDistance`
 * edits of `plate` (`_` marks any one character). Lets an index serve a
 * fuzzy search: OR them together.
 *
 * @example One edit away
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(fuzzyLikePatterns("AB", 1).sort(), ["A", "A_", "A_B", "AB", "AB_", "B", "_AB", "_B"].sort());
 * ```
 * @param plate Normalised plate text.
 * @param maxDistance 0, 1 or 2.
 * @returns Distinct LIKE patterns.
 * @throws {RangeError} When `maxDistance` is not 0, 1 or 2.
 */
export function fuzzyLikePatterns(
  plate: string,
  maxDistance: number,
): string[] {
  if (![0, 1, 2].includes(maxDistance)) {
    throw new RangeError(
      `Cannot build fuzzy patterns as 'maxDistance' must be 0, 1 or 2: current value is ${maxDistance}`,
    );
  }
  // Tokens are single characters; "_" stands for any one character (plates
  // are normalised, so they never hold "_" themselves).
  let level = new Set<string>([plate]);
  const all = new Set<string>(level);
  for (let step = 0; step < maxDistance; step++) {
    const next = new Set<string>();
    for (const p of level) {
      for (let i = 0; i <= p.length; i++) {
        next.add(p.slice(0, i) + "_" + p.slice(i)); // insertion
        if (i < p.length) {
          next.add(p.slice(0, i) + "_" + p.slice(i + 1)); // substitution
          next.add(p.slice(0, i) + p.slice(i + 1)); // deletion
        }
      }
    }
    for (const p of next) all.add(p);
    level = next;
  }
  all.delete("");
  return [...all];
}
