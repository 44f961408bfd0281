import assert from "node:assert/strict";
import type { Box, Detection } from "../../src/shared/types.ts";
import { iou, nms } from "../../src/vision/nms.ts";

const A: Box = [0, 0, 10, 10];
const B: Box = [1, 0, 11, 10]; // overlaps A by 9x10
const C: Box = [5, 0, 15, 10]; // overlaps A by 5x10, B by 6x10

function det(box: Box, score: number, classId = 0): Detection {
  return { box, score, classId };
}

Deno.test("`iou()` gives intersection over union for overlapping boxes", () => {
  assert.equal(iou(A, B), 90 / 110);
  assert.equal(iou(A, C), 50 / 150);
  assert.equal(iou(B, C), 60 / 140);
  assert.equal(iou(C, B), 60 / 140);
  assert.equal(iou(A, A), 1);
});

Deno.test("`iou()` is 0 for disjoint, touching and empty boxes", () => {
  assert.equal(iou(A, [20, 20, 30, 30]), 0);
  assert.equal(iou(A, [10, 0, 20, 10]), 0);
  assert.equal(iou([5, 5, 5, 5], [5, 5, 5, 5]), 0);
});

Deno.test("`nms()` keeps the best box and drops overlaps above the threshold", () => {
  const dets = [det(C, 0.7), det(A, 0.9), det(B, 0.8)];
  // IoU(A,B) = 0.818 > 0.5 drops B; IoU(A,C) = 0.333 keeps C.
  assert.deepEqual(nms(dets, { iouThreshold: 0.5 }), [
    det(A, 0.9),
    det(C, 0.7),
  ]);
  // At 0.3, C is dropped by A as well.
  assert.deepEqual(nms(dets, { iouThreshold: 0.3 }), [det(A, 0.9)]);
});

Deno.test("`nms()` does not let a suppressed box suppress others", () => {
  // At 0.4: B is dropped by A; IoU(B,C) = 0.43 > 0.4 but B no longer counts,
  // and IoU(A,C) = 0.333 keeps C.
  const dets = [det(A, 0.9), det(B, 0.8), det(C, 0.7)];
  assert.deepEqual(nms(dets, { iouThreshold: 0.4 }), [
    det(A, 0.9),
    det(C, 0.7),
  ]);
});

Deno.test("`nms()` only suppresses within a class when class-aware", () => {
  const dets = [det(A, 0.9, 2), det(B, 0.8, 7)];
  assert.deepEqual(nms(dets, { iouThreshold: 0.5 }), [det(A, 0.9, 2)]);
  assert.deepEqual(
    nms(dets, { iouThreshold: 0.5, classAware: true }),
    [det(A, 0.9, 2), det(B, 0.8, 7)],
  );
});

Deno.test("`nms()` keeps input order on equal scores and leaves the input alone", () => {
  const dets = [det(C, 0.5), det(A, 0.5), det([20, 20, 30, 30], 0.6)];
  const copy = structuredClone(dets);
  // C comes first among the ties, so C suppresses nothing (IoU 0.333 < 0.45).
  assert.deepEqual(nms(dets, { iouThreshold: 0.45 }), [
    det([20, 20, 30, 30], 0.6),
    det(C, 0.5),
    det(A, 0.5),
  ]);
  assert.deepEqual(nms(dets, { iouThreshold: 0.3 }), [
    det([20, 20, 30, 30], 0.6),
    det(C, 0.5),
  ]);
  assert.deepEqual(dets, copy);
  assert.deepEqual(nms([], { iouThreshold: 0.5 }), []);
});

Deno.test("`nms()` throws when the IoU threshold is outside 0..1", () => {
  assert.throws(() => nms([], { iouThreshold: 1.5 }), RangeError);
  assert.throws(() => nms([], { iouThreshold: NaN }), RangeError);
});
