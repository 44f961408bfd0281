import assert from "node:assert/strict";
import {
  decodePlateSlots,
  decodeRegion,
  PLATE_ALPHABET,
  V2_REGIONS,
} from "../../src/vision/ocr_decode.ts";

const SLOTS = 10;
const CHARS = 37;

/** Sets the probabilities of some characters of one slot of one plate. */
function setSlot(
  probs: Float32Array,
  plate: number,
  slot: number,
  pairs: Record<string, number>,
): void {
  const base = (plate * SLOTS + slot) * CHARS;
  for (const [ch, p] of Object.entries(pairs)) {
    probs[base + PLATE_ALPHABET.indexOf(ch)] = p;
  }
}

/** A [2, 10, 37] output: plate 0 reads all Z, plate 1 reads "AB12". */
function twoPlates(): Float32Array {
  const probs = new Float32Array(2 * SLOTS * CHARS);
  for (let slot = 0; slot < SLOTS; slot++) {
    setSlot(probs, 0, slot, { Z: 1 });
  }
  setSlot(probs, 1, 0, { A: 0.875, 8: 0.0625, 4: 0.03125 });
  setSlot(probs, 1, 1, { B: 0.75, 8: 0.25 });
  setSlot(probs, 1, 2, { 1: 0.625, I: 0.25, 7: 0.125 });
  setSlot(probs, 1, 3, { 2: 0.5, Z: 0.375, _: 0.125 });
  for (let slot = 4; slot < SLOTS; slot++) {
    setSlot(probs, 1, slot, { _: 0.9375, 1: 0.0625 });
  }
  return probs;
}

Deno.test("`decodePlateSlots()` reads the plate at the given batch index and strips pads", () => {
  const read = decodePlateSlots(twoPlates(), {
    slots: SLOTS,
    alphabet: PLATE_ALPHABET,
    index: 1,
  });
  assert.equal(read.text, "AB12");
  assert.deepEqual(read.charProbs, [0.875, 0.75, 0.625, 0.5]);
  assert.equal(read.confidence, (0.875 + 0.75 + 0.625 + 0.5) / 4);
  assert.equal(read.region, undefined);
});

Deno.test("`decodePlateSlots()` lists the top 3 candidates of every slot, pads as _", () => {
  const read = decodePlateSlots(twoPlates(), {
    slots: SLOTS,
    alphabet: PLATE_ALPHABET,
    index: 1,
  });
  const top = read.slotTop ?? [];
  assert.equal(top.length, SLOTS);
  assert.deepEqual(top[0], [["A", 0.875], ["8", 0.0625], ["4", 0.03125]]);
  // Slot 1 has two non-zero classes; the third is the first zero ("0").
  assert.deepEqual(top[1], [["B", 0.75], ["8", 0.25], ["0", 0]]);
  assert.deepEqual(top[3], [["2", 0.5], ["Z", 0.375], ["_", 0.125]]);
  assert.deepEqual(top[9], [["_", 0.9375], ["1", 0.0625], ["0", 0]]);
});

Deno.test("`decodePlateSlots()` honours topK and caps it at the alphabet size", () => {
  const probs = twoPlates();
  const one = decodePlateSlots(probs, {
    slots: SLOTS,
    alphabet: PLATE_ALPHABET,
    index: 1,
    topK: 1,
  });
  assert.deepEqual(one.slotTop?.[2], [["1", 0.625]]);
  const all = decodePlateSlots(probs, {
    slots: SLOTS,
    alphabet: PLATE_ALPHABET,
    topK: 100,
  });
  assert.equal(all.slotTop?.[0].length, CHARS);
  assert.deepEqual(all.slotTop?.[0][0], ["Z", 1]);
  assert.equal(all.text, "ZZZZZZZZZZ");
  assert.equal(all.confidence, 1);
});

Deno.test("`decodePlateSlots()` removes a pad in the middle of the text", () => {
  const probs = new Float32Array(SLOTS * CHARS);
  setSlot(probs, 0, 0, { A: 0.75 });
  setSlot(probs, 0, 1, { _: 0.5, B: 0.25 });
  setSlot(probs, 0, 2, { 7: 0.5 });
  for (let slot = 3; slot < SLOTS; slot++) setSlot(probs, 0, slot, { _: 1 });
  const read = decodePlateSlots(probs, {
    slots: SLOTS,
    alphabet: PLATE_ALPHABET,
  });
  assert.equal(read.text, "A7");
  assert.deepEqual(read.charProbs, [0.75, 0.5]);
  assert.equal(read.confidence, 0.625);
  assert.deepEqual(read.slotTop?.[1].slice(0, 2), [["_", 0.5], ["B", 0.25]]);
});

Deno.test("`decodePlateSlots()` gives empty text and confidence 0 for an all-pad plate", () => {
  const probs = new Float32Array(9 * CHARS);
  for (let slot = 0; slot < 9; slot++) {
    probs[slot * CHARS + 36] = 0.5;
  }
  const read = decodePlateSlots(probs, { slots: 9, alphabet: PLATE_ALPHABET });
  assert.equal(read.text, "");
  assert.equal(read.confidence, 0);
  assert.deepEqual(read.charProbs, []);
  assert.equal(read.slotTop?.length, 9);
});

Deno.test("`decodePlateSlots()` shows a custom pad character as _ in slotTop", () => {
  // Alphabet "AB-" with "-" as pad; one plate of 2 slots: "A", pad.
  const probs = new Float32Array([0.5, 0.25, 0.25, 0.125, 0.125, 0.75]);
  const read = decodePlateSlots(probs, {
    slots: 2,
    alphabet: "AB-",
    padChar: "-",
    topK: 2,
  });
  assert.equal(read.text, "A");
  assert.deepEqual(read.slotTop, [
    [["A", 0.5], ["B", 0.25]],
    [["_", 0.75], ["A", 0.125]],
  ]);
});

Deno.test("`decodePlateSlots()` throws on a wrong length, index, pad or topK", () => {
  const probs = twoPlates();
  const base = { slots: SLOTS, alphabet: PLATE_ALPHABET };
  assert.throws(
    () => decodePlateSlots(probs, { ...base, slots: 9 }),
    RangeError,
  );
  assert.throws(
    () => decodePlateSlots(probs, { ...base, index: 2 }),
    RangeError,
  );
  assert.throws(
    () => decodePlateSlots(probs, { ...base, padChar: "*" }),
    RangeError,
  );
  assert.throws(
    () => decodePlateSlots(probs, { ...base, topK: 0 }),
    RangeError,
  );
});

Deno.test("`decodeRegion()` returns the most likely region of the given plate", () => {
  const probs = new Float32Array(2 * 66);
  probs[0 * 66 + 23] = 0.5; // plate 0: Germany
  probs[1 * 66 + 61] = 0.75; // plate 1: United States
  probs[1 * 66 + 65] = 0.25;
  assert.deepEqual(decodeRegion(probs, { regions: V2_REGIONS, index: 1 }), {
    region: "United States",
    prob: 0.75,
  });
  assert.deepEqual(decodeRegion(probs, { regions: V2_REGIONS }), {
    region: "Germany",
    prob: 0.5,
  });
  assert.throws(
    () => decodeRegion(probs, { regions: V2_REGIONS, index: 2 }),
    RangeError,
  );
  assert.throws(
    () => decodeRegion(new Float32Array(65), { regions: V2_REGIONS }),
    RangeError,
  );
});

Deno.test("`V2_REGIONS` and `PLATE_ALPHABET` match the v2 plate config", () => {
  assert.equal(V2_REGIONS.length, 66);
  assert.equal(V2_REGIONS[0], "Albania");
  assert.equal(V2_REGIONS[10], "Bosnia and Herzegovina");
  assert.equal(V2_REGIONS[61], "United States");
  assert.equal(V2_REGIONS[63], "United Kingdom");
  assert.equal(V2_REGIONS[65], "Unknown");
  assert.equal(new Set(V2_REGIONS).size, 66);
  assert.equal(PLATE_ALPHABET.length, 37);
  assert.equal(PLATE_ALPHABET.indexOf("_"), 36);
});
