import assert from "node:assert/strict";
import {
  checkClassIds,
  decodeYolo26E2E,
  decodeYoloV8,
  decodeYoloV9E2E,
} from "../../src/vision/decode_yolo.ts";

Deno.test("`decodeYoloV9E2E()` keeps rows at or above the threshold", () => {
  const out = new Float32Array([
    ...[0, 100, 150, 180, 170, 0, 0.875],
    ...[0, 10, 20, 30, 40, 0, 0.125],
    ...[0, 200, 210, 260, 230, 0, 0.25],
  ]);
  assert.deepEqual(decodeYoloV9E2E(out, { scoreThreshold: 0.25 }), [
    { box: [100, 150, 180, 170], score: 0.875, classId: 0 },
    { box: [200, 210, 260, 230], score: 0.25, classId: 0 },
  ]);
});

Deno.test("`decodeYoloV9E2E()` returns nothing for an empty [0, 7] output", () => {
  assert.deepEqual(
    decodeYoloV9E2E(new Float32Array(0), { scoreThreshold: 0.25 }),
    [],
  );
  assert.throws(
    () => decodeYoloV9E2E(new Float32Array(8), { scoreThreshold: 0.25 }),
    RangeError,
  );
});

Deno.test("`decodeYolo26E2E()` reads x1, y1, x2, y2, score, class rows", () => {
  const out = new Float32Array(300 * 6);
  out.set([10, 20, 110, 60, 0.75, 0], 0);
  out.set([300, 310, 340, 330, 0.5, 1], 6 * 7);
  out.set([1, 2, 3, 4, 0.125, 0], 6 * 8);
  assert.deepEqual(decodeYolo26E2E(out, { scoreThreshold: 0.25 }), [
    { box: [10, 20, 110, 60], score: 0.75, classId: 0 },
    { box: [300, 310, 340, 330], score: 0.5, classId: 1 },
  ]);
  assert.throws(
    () => decodeYolo26E2E(new Float32Array(7), { scoreThreshold: 0.25 }),
    RangeError,
  );
});

/** A channel-major [1, 4 + C, N] tensor with values planted per anchor. */
function v8Tensor(
  n: number,
  numClasses: number,
  anchors: Record<number, { box: number[]; scores: Record<number, number> }>,
): Float32Array {
  const out = new Float32Array((4 + numClasses) * n);
  for (const [key, a] of Object.entries(anchors)) {
    const i = Number(key);
    for (let k = 0; k < 4; k++) out[k * n + i] = a.box[k];
    for (const [c, p] of Object.entries(a.scores)) {
      out[(4 + Number(c)) * n + i] = p;
    }
  }
  return out;
}

Deno.test("`decodeYoloV8()` decodes a planted anchor of a channel-major head", () => {
  const out = v8Tensor(5, 80, {
    // cx 100, cy 50, w 40, h 20 -> [80, 40, 120, 60]; person 0.875, car 0.625.
    3: { box: [100, 50, 40, 20], scores: { 0: 0.875, 2: 0.625 } },
    1: { box: [10, 10, 4, 4], scores: { 7: 0.125 } },
  });
  assert.deepEqual(
    decodeYoloV8(out, { numAnchors: 5, numClasses: 80, scoreThreshold: 0.25 }),
    [{ box: [80, 40, 120, 60], score: 0.875, classId: 0 }],
  );
  assert.deepEqual(
    decodeYoloV8(out, {
      numAnchors: 5,
      numClasses: 80,
      scoreThreshold: 0.25,
      classIds: [2, 3, 5, 7],
    }),
    [{ box: [80, 40, 120, 60], score: 0.625, classId: 2 }],
  );
});

Deno.test("`decodeYoloV8()` decodes the one-class plate head [1, 5, N]", () => {
  const out = v8Tensor(4, 1, {
    0: { box: [16, 16, 8, 4], scores: { 0: 0.5 } },
    2: { box: [200, 100, 60, 20], scores: { 0: 0.25 } },
  });
  assert.deepEqual(
    decodeYoloV8(out, { numAnchors: 4, numClasses: 1, scoreThreshold: 0.25 }),
    [
      { box: [12, 14, 20, 18], score: 0.5, classId: 0 },
      { box: [170, 90, 230, 110], score: 0.25, classId: 0 },
    ],
  );
});

Deno.test("`decodeYoloV8()` throws on a wrong length or class id", () => {
  assert.throws(
    () =>
      decodeYoloV8(new Float32Array(84 * 10), {
        numAnchors: 11,
        numClasses: 80,
        scoreThreshold: 0.25,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      decodeYoloV8(new Float32Array(5 * 10), {
        numAnchors: 10,
        numClasses: 1,
        scoreThreshold: 0.25,
        classIds: [1],
      }),
    RangeError,
  );
});

Deno.test("`checkClassIds()` names the output format and the first id out of range", () => {
  checkClassIds([0, 79], { numClasses: 80, format: "YOLOv8" });
  for (const [ids, bad] of [[[0, 80], 80], [[-1], -1], [[1.5], 1.5]] as const) {
    assert.throws(
      () => checkClassIds(ids, { numClasses: 80, format: "YOLOX" }),
      {
        name: "RangeError",
        message:
          `Cannot decode YOLOX output as 'classIds' must be in 0..79: current value is ${bad}`,
      },
    );
  }
});
