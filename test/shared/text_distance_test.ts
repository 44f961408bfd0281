import assert from "node:assert/strict";
import {
  editDistance,
  normalizedEditDistance,
} from "../../src/shared/text_distance.ts";

Deno.test("`editDistance()` is 0 for equal texts and the length against an empty one", () => {
  assert.equal(editDistance("PE63TVF", "PE63TVF"), 0);
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("", "ABC"), 3);
  assert.equal(editDistance("ABCD", ""), 4);
});

Deno.test("`editDistance()` counts substitutions, insertions and deletions", () => {
  assert.equal(editDistance("PE63TVF", "PE63TUF"), 1); // V -> U
  assert.equal(editDistance("24LSB1", "24LSB"), 1); // deletion
  assert.equal(editDistance("24LSB", "24LSB1"), 1); // insertion
  assert.equal(editDistance("XSNB23", "SNB23X"), 2); // shift: delete + insert
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("ABC", "XYZ"), 3);
});

Deno.test("`editDistance()` is symmetric", () => {
  assert.equal(editDistance("UP16CU0006", "UP16C0006"), 1);
  assert.equal(editDistance("UP16C0006", "UP16CU0006"), 1);
  assert.equal(editDistance("B121PHD", "BI21PH0"), 2);
  assert.equal(editDistance("BI21PH0", "B121PHD"), 2);
});

Deno.test("`normalizedEditDistance()` divides by the longer length", () => {
  assert.equal(normalizedEditDistance("PE63TVF", "PE63TUF"), 1 / 7);
  assert.equal(normalizedEditDistance("24LSB", "24LSB1"), 1 / 6);
  assert.equal(normalizedEditDistance("ABC", "XYZ"), 1);
  assert.equal(normalizedEditDistance("", ""), 0);
  assert.equal(normalizedEditDistance("", "AB"), 1);
});
