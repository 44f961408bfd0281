import assert from "node:assert/strict";
import type { PlateRead } from "../../src/shared/types.ts";
import { votePlate } from "../../src/vision/plate_vote.ts";

/** A read without slotTop, every character at probability `p`. */
function plain(text: string, p = 0.9): PlateRead {
  return {
    text,
    confidence: p,
    charProbs: [...text].map(() => p),
  };
}

/**
 * A read with slotTop: every slot of `text` has its character at 0.9 unless
 * `slots` gives that position's candidates; 10 slots, pads after the text.
 */
function withSlots(
  text: string,
  slots: Record<number, Array<[string, number]>> = {},
): PlateRead {
  const slotTop: Array<Array<[string, number]>> = [];
  const charProbs: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (i < text.length) {
      const slot = slots[i] ?? [[text[i], 0.9]];
      slotTop.push(slot);
      charProbs.push(slot.find(([c]) => c === text[i])![1]);
    } else {
      slotTop.push([["_", 0.95]]);
    }
  }
  const confidence = charProbs.reduce((a, b) => a + b, 0) / charProbs.length;
  return { text, confidence, charProbs, slotTop };
}

function assertClose(actual: number | undefined, expected: number): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `expected ${expected}, got ${actual}`,
  );
}

Deno.test("`votePlate()` returns null for no reads, empty texts or fewer than minReads", () => {
  assert.equal(votePlate([]), null);
  assert.equal(votePlate([{ read: plain("") }]), null);
  assert.equal(
    votePlate([{ read: plain("PE63TVF") }, { read: plain("") }], {
      minReads: 2,
    }),
    null,
  );
  assert.notEqual(
    votePlate([{ read: plain("PE63TVF") }, { read: plain("PE63TVF") }], {
      minReads: 2,
    }),
    null,
  );
});

Deno.test("`votePlate()` returns a single read as it is", () => {
  const vote = votePlate([{ read: plain("RK15YUH", 0.8) }]);
  assert.ok(vote !== null);
  assert.equal(vote.text, "RK15YUH");
  assertClose(vote.confidence, 0.8);
  assert.equal(vote.support, 1);
  assert.equal(vote.bestIndex, 0);
});

Deno.test("`votePlate()` groups similar texts and leaves an outlier out", () => {
  const vote = votePlate([
    { read: plain("PE63TVF", 0.9) },
    { read: plain("PE63TUF", 0.9) },
    { read: plain("XYZ", 0.95) },
    { read: plain("PE63TVF", 0.9) },
  ]);
  assert.ok(vote !== null);
  assert.equal(vote.text, "PE63TVF");
  assert.equal(vote.support, 2);
  assert.equal(vote.bestIndex, 0); // first of the two equally confident matches
  // Six positions agree (share 0.9); position 5 gives V 1.8 of 3 (0.6).
  // The group holds 2.7 of 3.65 weight.
  assertClose(vote.confidence, ((6 * 0.9 + 0.6) / 7) * (2.7 / 3.65));
});

Deno.test("`votePlate()` votes per character so reads with different errors give the right plate", () => {
  const vote = votePlate([
    { read: plain("PE68TVF", 0.8) },
    { read: plain("PE63TUF", 0.85) },
    { read: plain("PF63TVF", 0.9) },
  ]);
  assert.ok(vote !== null);
  assert.equal(vote.text, "PE63TVF");
  assert.equal(vote.support, 0);
  assert.equal(vote.bestIndex, 2); // most confident read of the group
  // Positions 1, 3 and 5 each have one dissenting read.
  // Position 1: E 0.8 + 0.85; position 3: 3 0.85 + 0.9; position 5: V
  // 0.8 + 0.9; the other four: 0.8 + 0.85 + 0.9 = 2.55; all of 3.
  const expected = (4 * 2.55 + 1.65 + 1.75 + 1.7) / 3 / 7;
  assertClose(vote.confidence, expected);
});

Deno.test("`votePlate()` uses second candidates from slotTop", () => {
  const reads = [
    withSlots("P063TVF", { 1: [["0", 0.5], ["O", 0.45]] }),
    withSlots("PO63TVF", { 1: [["O", 0.6], ["0", 0.2]] }),
    withSlots("P063TVF", { 1: [["0", 0.5], ["O", 0.45]] }),
  ];
  // Own characters alone: 0 = 1.0, O = 0.6. With candidates: 0 = 1.2,
  // O = 1.5.
  const vote = votePlate(reads.map((read) => ({ read })));
  assert.ok(vote !== null);
  assert.equal(vote.text, "PO63TVF");
  assert.equal(vote.support, 1);
  assert.equal(vote.bestIndex, 1);
  // Positions: six at 0.9, slot 1 at 1.5/3; groupShare 1.
  assertClose(vote.confidence, (6 * 0.9 + 0.5) / 7);
});

Deno.test("`votePlate()` counts only same-class candidates where format rules replaced the top one", () => {
  // Format-corrected read: its slot 1 top is 0 (0.55), the text keeps O (0.40).
  const corrected = withSlots("PO63TVF", { 1: [["0", 0.55], ["O", 0.4]] });
  const raw = withSlots("P063TVF", { 1: [["0", 0.3], ["O", 0.25]] });
  // Counting every candidate would give 0 = 0.85 against O = 0.65.
  const vote = votePlate([{ read: corrected }, { read: raw }]);
  assert.ok(vote !== null);
  assert.equal(vote.text, "PO63TVF");
  assert.equal(vote.support, 1);
  assert.equal(vote.bestIndex, 0);
});

Deno.test("`votePlate()` lets weights decide and ignores reads of weight 0", () => {
  const reads = [
    { read: plain("PE63TVF", 0.9), weight: 0.2 },
    { read: plain("PE63TUF", 0.9), weight: 0.9 },
    { read: plain("PE63TVF", 0.9), weight: 0 },
  ];
  const vote = votePlate(reads);
  assert.ok(vote !== null);
  assert.equal(vote.text, "PE63TUF");
  assert.equal(vote.bestIndex, 1);
  // Position 5: U 0.81 of 1.1 voter weight; others 0.99 of 1.1.
  assertClose(vote.confidence, (6 * 0.9 + 0.81 / 1.1) / 7);
});

Deno.test("`votePlate()` votes only the reads of the group's heaviest length", () => {
  const vote = votePlate([
    { read: plain("PE3TVF", 0.95) }, // a dropped character
    { read: plain("PE63TVF", 0.8) },
    { read: plain("PE63TVF", 0.8) },
  ]);
  assert.ok(vote !== null);
  assert.equal(vote.text, "PE63TVF");
  assert.equal(vote.support, 2);
  assert.equal(vote.bestIndex, 1);
  // Positions all at 0.8; the whole group is one group, so share 1.
  assertClose(vote.confidence, 0.8);
});

Deno.test("`votePlate()` throws on bad options and weights", () => {
  const reads = [{ read: plain("PE63TVF") }];
  assert.throws(() => votePlate(reads, { minReads: 0 }), RangeError);
  assert.throws(() => votePlate(reads, { minReads: 1.5 }), RangeError);
  assert.throws(() => votePlate(reads, { maxGroupDistance: 2 }), RangeError);
  assert.throws(
    () => votePlate([{ read: plain("PE63TVF"), weight: -1 }]),
    (e: unknown) => e instanceof RangeError && e.message.includes("'weight'"),
  );
});
