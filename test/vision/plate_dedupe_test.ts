import assert from "node:assert/strict";
import type { Detection } from "../../src/shared/mod.ts";
import { nms } from "../../src/vision/nms.ts";
import { containment, dedupePlates } from "../../src/vision/plate_dedupe.ts";

const det = (box: Detection["box"], score: number): Detection => ({
  box,
  score,
  classId: 0,
});

Deno.test("`dedupePlates()` keeps one of two shifted boxes of one 4K plate that IoU NMS keeps both of", () => {
  // The two boxes the plate detector gave for LS15EBC in one frame of
  // cases/uhd_small_plate: IoU 0.42, so NMS at 0.45 keeps both.
  const boxes = [
    det([1884, 1565, 2041, 1618], 0.58),
    det([1867, 1548, 2023, 1600], 0.54),
  ];
  assert.equal(nms(boxes, { iouThreshold: 0.45 }).length, 2);
  assert.deepEqual(dedupePlates(boxes), [boxes[0]]);
});

Deno.test("`dedupePlates()` drops a box nested in a larger one, whichever scores higher", () => {
  const outer = det([100, 100, 260, 150], 0.5);
  const inner = det([130, 110, 200, 140], 0.9);
  assert.equal(containment(outer.box, inner.box), 1);
  assert.deepEqual(dedupePlates([outer, inner]), [inner]);
  assert.deepEqual(dedupePlates([det(outer.box, 0.9), det(inner.box, 0.5)]), [
    det(outer.box, 0.9),
  ]);
});

Deno.test("`dedupePlates()` keeps the plates of two cars side by side, even touching", () => {
  const a = det([100, 100, 200, 130], 0.8);
  const b = det([195, 102, 295, 132], 0.7);
  assert.deepEqual(dedupePlates([b, a]), [a, b]);
});

Deno.test("`dedupePlates()` refuses a threshold outside 0..1", () => {
  assert.throws(
    () => dedupePlates([], { maxContainment: 2 }),
    /'maxContainment' must be in 0\.\.1: current value is 2/,
  );
});
