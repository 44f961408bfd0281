import assert from "node:assert/strict";
import type { PlateRead } from "../../src/shared/types.ts";
import {
  applyFormatRules,
  PLATE_FORMATS,
} from "../../src/vision/plate_format.ts";

type Slot = Array<[string, number]>;

const PAD: Slot = [["_", 0.95], ["1", 0.03]];

/** Builds a read as the OCR decoder does: argmax per slot, pads dropped. */
function readOf(
  slots: Slot[],
  region?: string,
  regionProb?: number,
): PlateRead {
  let text = "";
  const charProbs: number[] = [];
  for (const slot of slots) {
    if (slot[0][0] !== "_") {
      text += slot[0][0];
      charProbs.push(slot[0][1]);
    }
  }
  const confidence = charProbs.reduce((a, b) => a + b, 0) / charProbs.length;
  const read: PlateRead = { text, confidence, charProbs, slotTop: slots };
  if (region !== undefined) read.region = region;
  if (regionProb !== undefined) read.regionProb = regionProb;
  return read;
}

function assertClose(actual: number | undefined, expected: number): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `expected ${expected}, got ${actual}`,
  );
}

/** UK `PO63 TVF` read as `P063TVF`; `oProb` is the letter's probability. */
function ukSlots(zeroProb: number, oProb: number): Slot[] {
  return [
    [["P", 0.9]],
    [["0", zeroProb], ["O", oProb], ["Q", 0.01]],
    [["6", 0.9], ["G", 0.05]],
    [["3", 0.9]],
    [["T", 0.9]],
    [["V", 0.8], ["U", 0.15]],
    [["F", 0.9]],
    PAD,
    PAD,
    PAD,
  ];
}

Deno.test("`applyFormatRules()` corrects 0 to O in a letter slot of a UK plate", () => {
  const read = readOf(ukSlots(0.55, 0.4), "United Kingdom", 0.9);
  assert.equal(read.text, "P063TVF");
  const out = applyFormatRules(read);
  // LLDDLLL: slot 1 takes its best letter, O (0.40); ratio 0.40/0.55 = 0.73.
  assert.equal(out.text, "PO63TVF");
  assert.deepEqual(out.charProbs, [0.9, 0.4, 0.9, 0.9, 0.9, 0.8, 0.9]);
  assertClose(out.confidence, 5.7 / 7);
  assert.equal(out.formatted, "PO63 TVF");
  assert.equal(out.formatRegion, "United Kingdom");
  assert.equal(out.rawText, "P063TVF");
  assert.equal(out.region, "United Kingdom");
  assert.deepEqual(out.slotTop, read.slotTop);
  // The input is not changed.
  assert.equal(read.text, "P063TVF");
});

Deno.test("`applyFormatRules()` corrects I to 1 in a digit slot of a Romanian plate", () => {
  const read = readOf(
    [
      [["B", 0.9]],
      [["1", 0.85], ["I", 0.1]],
      [["2", 0.9]],
      [["I", 0.5], ["1", 0.45], ["L", 0.03]],
      [["P", 0.9]],
      [["H", 0.9]],
      [["D", 0.7], ["0", 0.2]],
      PAD,
      PAD,
      PAD,
    ],
    "Romania",
    0.8,
  );
  assert.equal(read.text, "B12IPHD");
  const out = applyFormatRules(read);
  // L DDD LLL wins (ratio 0.45/0.5 = 0.9) over LL DD LLL (needs I at 0.10
  // in slot 1); L DD LLL needs a pad in slot 6, which has none.
  assert.equal(out.text, "B121PHD");
  assert.deepEqual(out.charProbs, [0.9, 0.85, 0.9, 0.45, 0.9, 0.9, 0.7]);
  assertClose(out.confidence, 5.6 / 7);
  assert.equal(out.formatted, "B 121 PHD");
  assert.equal(out.rawText, "B12IPHD");
});

Deno.test("`applyFormatRules()` corrects 8 to B in a letter slot of a Mercosur plate", () => {
  const read = readOf(
    [
      [["A", 0.95]],
      [["8", 0.6], ["B", 0.38]],
      [["C", 0.9]],
      [["1", 0.9]],
      [["D", 0.85], ["0", 0.1]],
      [["2", 0.9]],
      [["3", 0.9]],
      PAD,
      PAD,
      PAD,
    ],
    "Brazil",
    0.9,
  );
  assert.equal(read.text, "A8C1D23");
  const out = applyFormatRules(read);
  // LLLDLDD: ratio 0.38/0.6; LLL-DDDD would also need 0 for D (0.10/0.85).
  assert.equal(out.text, "ABC1D23");
  assert.deepEqual(out.charProbs, [0.95, 0.38, 0.9, 0.9, 0.85, 0.9, 0.9]);
  assertClose(out.confidence, 5.78 / 7);
  assert.equal(out.formatted, "ABC1D23");
  assert.equal(out.formatRegion, "Brazil");
});

Deno.test("`applyFormatRules()` corrects a 10-character Indian plate when the region is Unknown", () => {
  const read = readOf(
    [
      [["U", 0.95]],
      [["P", 0.95]],
      [["1", 0.95]],
      [["6", 0.9], ["G", 0.05]],
      [["C", 0.9]],
      [["U", 0.9]],
      [["0", 0.9]],
      [["0", 0.8], ["O", 0.15]],
      [["O", 0.5], ["0", 0.45], ["D", 0.02]],
      [["6", 0.9]],
    ],
    "Unknown",
    0.7,
  );
  assert.equal(read.text, "UP16CU00O6");
  const out = applyFormatRules(read);
  // Only India has a 10-slot pattern (no slot has a pad for shorter ones).
  assert.equal(out.text, "UP16CU0006");
  assert.equal(out.formatted, "UP 16 CU 0006");
  assert.equal(out.formatRegion, "India");
  assert.deepEqual(out.charProbs, [
    0.95,
    0.95,
    0.95,
    0.9,
    0.9,
    0.9,
    0.9,
    0.8,
    0.45,
    0.9,
  ]);
  assertClose(out.confidence, 8.6 / 10);
});

Deno.test("`applyFormatRules()` leaves a free-form US read alone", () => {
  const read = readOf(
    [
      [["L", 0.9]],
      [["U", 0.9], ["V", 0.05]],
      [["V", 0.9]],
      [["P", 0.9]],
      [["0", 0.6], ["O", 0.39]],
      [["K", 0.9]],
      [["R", 0.9]],
      PAD,
      PAD,
      PAD,
    ],
    "United States",
    0.95,
  );
  assert.deepEqual(applyFormatRules(read), read);
  assert.deepEqual(
    applyFormatRules(read, { region: "United States" }),
    read,
  );
});

Deno.test("`applyFormatRules()` refuses a correction whose likelihood ratio is below minRatio", () => {
  const read = readOf(ukSlots(0.97, 0.02), "United Kingdom", 0.9);
  // Ratio 0.02/0.97 = 0.0206 < 0.05.
  const out = applyFormatRules(read);
  assert.deepEqual(out, read);
  assert.equal(out.formatted, undefined);
  assert.equal(out.rawText, undefined);
  // The same read passes with a lower threshold.
  assert.equal(applyFormatRules(read, { minRatio: 0.01 }).text, "PO63TVF");
});

Deno.test("`applyFormatRules()` keeps a raw text that already fits a format of the region", () => {
  const read = readOf(
    [
      [["2", 0.9]],
      [["4", 0.9], ["A", 0.08]],
      [["L", 0.9]],
      [["S", 0.6], ["5", 0.39]],
      [["B", 0.7], ["8", 0.29]],
      [["1", 0.9], ["I", 0.08]],
      PAD,
      PAD,
      PAD,
      PAD,
    ],
    "Netherlands",
    0.9,
  );
  const out = applyFormatRules(read);
  assert.equal(out.text, "24LSB1");
  assert.equal(out.formatted, "24-LSB-1"); // sidecode 7
  assert.equal(out.formatRegion, "Netherlands");
  assert.equal(out.rawText, undefined);
  assert.equal(out.confidence, read.confidence);
});

Deno.test("`applyFormatRules()` never invents a character outside the slot's candidates", () => {
  const slots = ukSlots(0.55, 0.4);
  slots[1] = [["0", 0.6], ["8", 0.3], ["9", 0.05]]; // no letter on offer
  const read = readOf(slots, "United Kingdom", 0.9);
  assert.deepEqual(applyFormatRules(read), read);
});

Deno.test("`applyFormatRules()` refuses a correction when a weak region hint leaves two formats that fit", () => {
  const read = readOf(
    [
      [["A", 0.9]],
      [["B", 0.9]],
      [["1", 0.9]],
      [["2", 0.9]],
      [["C", 0.6], ["0", 0.35]],
      [["D", 0.9]],
      [["8", 0.55], ["B", 0.4]],
      PAD,
      PAD,
      PAD,
    ],
    "United Kingdom",
    0.3,
  );
  assert.equal(read.text, "AB12CD8");
  // Weak hint: every region is tried. UK/Romania give AB12CDB (ratio 0.73),
  // France/Italy give AB120DB (ratio 0.42): two texts pass, so no change.
  assert.deepEqual(applyFormatRules(read), read);
  // Naming the region settles it.
  const out = applyFormatRules(read, { region: "United Kingdom" });
  assert.equal(out.text, "AB12CDB");
  assert.equal(out.formatted, "AB12 CDB");
});

Deno.test("`applyFormatRules()` leaves a read alone when its strong region has no listed formats", () => {
  const read = readOf(ukSlots(0.55, 0.4), "Poland", 0.9);
  assert.deepEqual(applyFormatRules(read), read);
  // The option overrides the read's own hint.
  assert.equal(
    applyFormatRules(read, { region: "United Kingdom" }).text,
    "PO63TVF",
  );
});

Deno.test("`applyFormatRules()` leaves a read without slotTop alone", () => {
  const read: PlateRead = {
    text: "P063TVF",
    confidence: 0.9,
    charProbs: [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
    region: "United Kingdom",
    regionProb: 0.9,
  };
  assert.deepEqual(applyFormatRules(read), read);
});

Deno.test("`applyFormatRules()` throws on an unknown region or a bad minRatio", () => {
  const read = readOf(ukSlots(0.55, 0.4));
  assert.throws(
    () => applyFormatRules(read, { region: "UK" }),
    (e: unknown) =>
      e instanceof RangeError && e.message.includes("'region'") &&
      e.message.includes('"UK"'),
  );
  assert.throws(() => applyFormatRules(read, { minRatio: 0 }), RangeError);
  assert.throws(() => applyFormatRules(read, { minRatio: 1.5 }), RangeError);
  assert.throws(
    () => applyFormatRules(read, { minRegionProb: -1 }),
    RangeError,
  );
});

Deno.test("`PLATE_FORMATS` lists the 14 Dutch sidecodes and German patterns up to 8 characters", () => {
  assert.equal(PLATE_FORMATS["Netherlands"].patterns.length, 14);
  const german = PLATE_FORMATS["Germany"].patterns;
  // 2-5 letters and 1-4 digits, at most 8: 4 + 4 + 4 + 3.
  assert.equal(german.length, 15);
  assert.ok(german.includes("LLLLL DD")); // NWM MX 45
  assert.ok(!german.includes("LLLLL DDDD")); // 9 characters
  assert.equal(PLATE_FORMATS["United States"].freeForm, true);
});

Deno.test("`applyFormatRules()` takes 0 for O in a US read when the OCR offered the digit (standard series issue no O)", () => {
  // ne280.png of the OpenALPR crops: 0JW695 read as OJW695, 0 at 0.01.
  const slots: Slot[] = [
    [["O", 0.99], ["0", 0.01], ["Q", 0.0001]],
    [["J", 1]],
    [["W", 1]],
    [["6", 1]],
    [["9", 1]],
    [["5", 1]],
    PAD,
    PAD,
    PAD,
    PAD,
  ];
  const out = applyFormatRules(readOf(slots, "United States", 0.99));
  assert.equal(out.text, "0JW695");
  assert.equal(out.rawText, "OJW695");
  assertClose(out.charProbs[0], 0.01);
});

Deno.test("`applyFormatRules()` keeps US vanity letters the OCR gave no digit for", () => {
  // nh1244.png: QUILLS; the digits are in the top 3 only at ~1e-6.
  const slots: Slot[] = [
    [["Q", 0.999], ["O", 1e-6], ["0", 1e-6]],
    [["U", 1]],
    [["I", 0.999], ["1", 1e-6], ["L", 1e-7]],
    [["L", 1]],
    [["L", 1]],
    [["S", 1]],
    PAD,
    PAD,
    PAD,
    PAD,
  ];
  const out = applyFormatRules(readOf(slots, "United States", 0.99));
  assert.equal(out.text, "QUILLS");
  assert.equal(out.rawText, undefined);
});

Deno.test("`applyFormatRules()` never gives a UK plate's letters an I or Q, and keeps them on Northern Irish plates", () => {
  // GB format: I read where the plate has T (the OCR offered both).
  const gb: Slot[] = [
    [["P", 0.9]],
    [["E", 0.9]],
    [["6", 0.9]],
    [["3", 0.9]],
    [["I", 0.5], ["T", 0.45]],
    [["V", 0.9]],
    [["F", 0.9]],
    PAD,
    PAD,
    PAD,
  ];
  const out = applyFormatRules(readOf(gb, "United Kingdom", 0.9));
  assert.equal(out.text, "PE63TVF");
  const ni: Slot[] = [
    [["I", 0.9]],
    [["A", 0.9]],
    [["Z", 0.9]],
    [["1", 0.9]],
    [["2", 0.9]],
    [["3", 0.9]],
    [["4", 0.9]],
    PAD,
    PAD,
    PAD,
  ];
  assert.equal(
    applyFormatRules(readOf(ni, "United Kingdom", 0.9)).text,
    "IAZ1234",
  );
});

Deno.test("`applyFormatRules()` reads a Dutch sidecode-8 plate without vowels, and French and Spanish series without their unused letters", () => {
  // 1-ABC-23 cannot be a Dutch plate (no vowels, no C): the OCR's second
  // candidates decide.
  const nl: Slot[] = [
    [["5", 0.9]],
    [["A", 0.5], ["R", 0.4]],
    [["B", 0.9]],
    [["C", 0.5], ["G", 0.45]],
    [["2", 0.9]],
    [["3", 0.9]],
    PAD,
    PAD,
    PAD,
    PAD,
  ];
  assert.equal(applyFormatRules(readOf(nl, "Netherlands", 0.9)).text, "5RBG23");
  const fr: Slot[] = [
    [["A", 0.9]],
    [["O", 0.6], ["D", 0.3]],
    [["1", 0.9]],
    [["2", 0.9]],
    [["3", 0.9]],
    [["B", 0.9]],
    [["C", 0.9]],
    PAD,
    PAD,
    PAD,
  ];
  assert.equal(applyFormatRules(readOf(fr, "France", 0.9)).text, "AD123BC");
  const es: Slot[] = [
    [["1", 0.9]],
    [["2", 0.9]],
    [["3", 0.9]],
    [["4", 0.9]],
    [["B", 0.9]],
    [["E", 0.55], ["F", 0.4]],
    [["Q", 0.5], ["G", 0.45]],
    PAD,
    PAD,
    PAD,
  ];
  assert.equal(applyFormatRules(readOf(es, "Spain", 0.9)).text, "1234BFG");
});
