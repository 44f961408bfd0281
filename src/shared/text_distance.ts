/**
 * Edit distance between plate texts. Pure, no I/O.
 *
 * Used to group OCR reads of one vehicle, to associate reads with tracks, and
 * to match plates of interest "within one character".
 *
 * @module
 */

/**
 * Levenshtein distance: the least number of single-character insertions,
 * deletions and substitutions that turn `a` into `b`. Compares UTF-16 code
 * units, which is exact for plate texts (A-Z, 0-9).
 *
 * @example Usage
 * ```ts
 * import { editDistance } from "./text_distance.ts";
 * import assert from "node:assert/strict";
 * assert.equal(editDistance("PE63TVF", "PE63TUF"), 1);
 * assert.equal(editDistance("24LSB1", "24LSB"), 1);
 * ```
 * @param a First text.
 * @param b Second text.
 * @returns The distance, 0 when the texts are equal.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // One row of the dynamic-programming table, over the characters of `b`.
  let previous = new Array<number>(b.length + 1);
  let current = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] +
        (a[i - 1] === b[j - 1] ? 0 : 1);
      const deletion = previous[j] + 1;
      const insertion = current[j - 1] + 1;
      current[j] = Math.min(substitution, deletion, insertion);
    }
    const swap = previous;
    previous = current;
    current = swap;
  }
  return previous[b.length];
}

/**
 * Edit distance divided by the length of the longer text, in 0..1: 0 for equal
 * texts, 1 for texts with nothing in common. Two empty texts give 0.
 *
 * @example Usage
 * ```ts
 * import { normalizedEditDistance } from "./text_distance.ts";
 * import assert from "node:assert/strict";
 * assert.equal(normalizedEditDistance("PE63TVF", "PE63TUF"), 1 / 7);
 * ```
 * @param a First text.
 * @param b Second text.
 * @returns `editDistance(a, b) / max(a.length, b.length)`.
 */
export function normalizedEditDistance(a: string, b: string): number {
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return 0;
  return editDistance(a, b) / longer;
}
