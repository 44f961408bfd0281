import assert from "node:assert/strict";
import type { Box, PlateRead } from "../../src/shared/mod.ts";
import { type FramePlateRead, smoothClip } from "../../src/vision/smooth.ts";

function read(text: string, p: number): PlateRead {
  return { text, confidence: p, charProbs: [...text].map(() => p) };
}

/** One vehicle moving right 10 px a frame, read as `texts[i]` in frame i. */
function track(texts: Array<[string, number]>, y = 100): FramePlateRead[] {
  return texts.map(([text, p], i) => {
    const plateBox: Box = [100 + 10 * i, y, 160 + 10 * i, y + 20];
    return {
      frameIdx: i,
      plateBox,
      carBox: [60 + 10 * i, y - 80, 220 + 10 * i, y + 40],
      carFound: true,
      detScore: 0.8,
      read: read(text, p),
    };
  });
}

Deno.test("`smoothClip()` reports a plate read well many times even when junk reads share its track", () => {
  // 6 good reads, 5 confident partial ones (the plate half hidden by a
  // passing cyclist): the partial reads must not dilute the plate below the
  // reporting threshold.
  const reads = track([
    ["KX51ABC", 0.97],
    ["KX5", 0.8],
    ["KX51ABC", 0.95],
    ["KX5", 0.82],
    ["KX51ABC", 0.96],
    ["KX5", 0.79],
    ["KX51A8C", 0.9],
    ["KX51ABC", 0.98],
    ["KX5", 0.81],
    ["KX51ABC", 0.94],
    ["KX5", 0.8],
  ]);
  const plates = smoothClip(reads);
  assert.deepEqual(plates.map((p) => p.text), ["KX51ABC"]);
  assert.equal(plates[0].support, 5);
  assert.equal(plates[0].best.read.text, "KX51ABC");
});

Deno.test("`smoothClip()` drops a plate read once in a clip, and tracks of low-confidence reads", () => {
  const once = track([["AB12CDE", 0.99], ["", 0], ["", 0]]);
  assert.deepEqual(smoothClip(once), []);
  const blurred = track([["B8H1", 0.41], ["B8H1", 0.45], ["BBH1", 0.38], [
    "B8H1",
    0.5,
  ]]);
  assert.deepEqual(smoothClip(blurred), []);
});

Deno.test("`smoothClip()` keeps a single read in a one-frame input (a photo) and two vehicles apart", () => {
  const photo = track([["AB12CDE", 0.9]]);
  assert.deepEqual(smoothClip(photo).map((p) => p.text), ["AB12CDE"]);
  const two = [
    ...track([["AB12CDE", 0.95], ["AB12CDE", 0.96], ["AB12CDE", 0.94]], 100),
    ...track([["XY34ZZZ", 0.93], ["XY34ZZZ", 0.95], ["XY34ZZZ", 0.97]], 500),
  ];
  assert.deepEqual(smoothClip(two).map((p) => p.text).sort(), [
    "AB12CDE",
    "XY34ZZZ",
  ]);
});
