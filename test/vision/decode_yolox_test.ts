import assert from "node:assert/strict";
import { decodeYolox } from "../../src/vision/decode_yolox.ts";

// A 64x32 input: grids 8x4 (rows 0-31), 4x2 (rows 32-39), 2x1 (rows 40-41).
const ROW = 85;
const ROWS = 42;

function plant(out: Float32Array, row: number, values: number[]): void {
  out.set(values, row * ROW);
}

function classScores(scores: Record<number, number>): number[] {
  const p = new Array(80).fill(0);
  for (const [c, v] of Object.entries(scores)) p[Number(c)] = v;
  return p;
}

function tensor(): Float32Array {
  const out = new Float32Array(ROWS * ROW);
  // Stride 16, cell (gx 2, gy 1) = row 32 + 1 * 4 + 2 = 38.
  plant(out, 38, [0.5, 0.25, 0, 0, 0.5, ...classScores({ 0: 0.875, 2: 0.75 })]);
  // Stride 8, last cell (gx 7, gy 3) = row 31, w = exp(ln 2) * 8 = 16.
  plant(out, 31, [0, 0, Math.log(2), 0, 1, ...classScores({ 7: 0.5 })]);
  // Objectness under the threshold: never a detection.
  plant(out, 0, [0, 0, 0, 0, 0.25, ...classScores({ 2: 1 })]);
  // obj * p = 0.25 under the threshold.
  plant(out, 40, [0, 0, 0, 0, 0.5, ...classScores({ 2: 0.5 })]);
  return out;
}

const OPTIONS = { inputWidth: 64, inputHeight: 32, scoreThreshold: 0.3 };

Deno.test("`decodeYolox()` decodes planted cells on every stride of a 64x32 input", () => {
  const dets = decodeYolox(tensor(), OPTIONS);
  assert.equal(dets.length, 2);
  // Row 31: cx = (0 + 7) * 8 = 56, cy = (0 + 3) * 8 = 24, w 16, h 8.
  assert.equal(dets[0].classId, 7);
  assert.equal(dets[0].score, 0.5);
  const expected = [48, 20, 64, 28];
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(dets[0].box[i] - expected[i]) < 1e-5, `${dets[0].box}`);
  }
  // Row 38: cx = (0.5 + 2) * 16 = 40, cy = (0.25 + 1) * 16 = 20, w = h = 16;
  // best class is 0 with 0.5 * 0.875.
  assert.deepEqual(dets[1], {
    box: [32, 12, 48, 28],
    score: 0.4375,
    classId: 0,
  });
});

Deno.test("`decodeYolox()` picks the best class among classIds only", () => {
  const dets = decodeYolox(tensor(), { ...OPTIONS, classIds: [2, 3, 5] });
  // Row 31 has only class 7: dropped. Row 38: class 2 at 0.5 * 0.75.
  assert.deepEqual(dets, [{ box: [32, 12, 48, 28], score: 0.375, classId: 2 }]);
});

Deno.test("`decodeYolox()` accepts dynamic input sizes that are multiples of 32", () => {
  // 640x384: 80*48 + 40*24 + 20*12 = 5040 rows; 416x416: 3549 rows.
  const wide = new Float32Array(5040 * ROW);
  // Last row: stride 32, cell (19, 11): cx = 19.5 * 32 = 624, cy = 11.5 * 32 = 368.
  wide.set([0.5, 0.5, 0, 0, 1, 0, 0, 0.9], 5039 * ROW);
  const dets = decodeYolox(wide, {
    inputWidth: 640,
    inputHeight: 384,
    scoreThreshold: 0.3,
  });
  assert.equal(dets.length, 1);
  assert.deepEqual(dets[0].box, [608, 352, 640, 384]);
  assert.equal(dets[0].classId, 2);
  assert.deepEqual(
    decodeYolox(new Float32Array(3549 * ROW), {
      inputWidth: 416,
      inputHeight: 416,
      scoreThreshold: 0.3,
    }),
    [],
  );
});

Deno.test("`decodeYolox()` throws on a size that is not a stride multiple or a wrong length", () => {
  assert.throws(
    () => decodeYolox(tensor(), { ...OPTIONS, inputWidth: 48 }),
    RangeError,
  );
  assert.throws(
    () => decodeYolox(new Float32Array(41 * ROW), OPTIONS),
    RangeError,
  );
  assert.throws(
    () => decodeYolox(tensor(), { ...OPTIONS, classIds: [80] }),
    RangeError,
  );
});

Deno.test("`decodeYolox()` honours numClasses and custom strides", () => {
  // One class (row length 6), a single stride 16 on 32x16: 2x1 grid.
  const out = new Float32Array([
    ...[0, 0, 0, 0, 0, 0],
    ...[0.5, 0.5, 0, 0, 0.5, 1],
  ]);
  const dets = decodeYolox(out, {
    inputWidth: 32,
    inputHeight: 16,
    numClasses: 1,
    strides: [16],
    scoreThreshold: 0.3,
  });
  assert.deepEqual(dets, [{ box: [16, 0, 32, 16], score: 0.5, classId: 0 }]);
});

/** The columns of `tensor()` a model made by `select_classes` keeps: box, obj, then classes `ids`. */
function selected(ids: number[]): Float32Array {
  const full = tensor();
  const row = 5 + ids.length;
  const out = new Float32Array(ROWS * row);
  for (let r = 0; r < ROWS; r++) {
    const src = full.subarray(r * ROW, (r + 1) * ROW);
    out.set([...src.subarray(0, 5), ...ids.map((id) => src[5 + id])], r * row);
  }
  return out;
}

Deno.test("`decodeYolox()` with columnClassIds reports each column's class and gives what the full output gives for those classes", () => {
  const vehicles = [2, 3, 5, 7];
  const full = decodeYolox(tensor(), { ...OPTIONS, classIds: vehicles });
  const kept = decodeYolox(selected(vehicles), {
    ...OPTIONS,
    columnClassIds: vehicles,
    classIds: vehicles,
  });
  assert.deepEqual(kept, full);
  // Row 31 (class 7, the last column) and row 38 (class 2, the first).
  assert.deepEqual(kept.map((d) => d.classId), [7, 2]);
  // Without classIds every column counts; numClasses follows the columns.
  assert.deepEqual(
    decodeYolox(selected(vehicles), { ...OPTIONS, columnClassIds: vehicles }),
    full,
  );
  // A class the model has no column for is not found; one it has is.
  assert.deepEqual(
    decodeYolox(selected(vehicles), {
      ...OPTIONS,
      columnClassIds: vehicles,
      classIds: [0, 7],
    }).map((d) => d.classId),
    [7],
  );
  // Columns in another order map to their own ids.
  assert.deepEqual(
    decodeYolox(selected([7, 2]), { ...OPTIONS, columnClassIds: [7, 2] }),
    full,
  );
});

Deno.test("`decodeYolox()` refuses columnClassIds that do not fit numClasses", () => {
  assert.throws(
    () =>
      decodeYolox(selected([2, 3, 5, 7]), {
        ...OPTIONS,
        numClasses: 4,
        columnClassIds: [2, 3, 5],
      }),
    {
      name: "RangeError",
      message:
        "Cannot decode YOLOX output as 'columnClassIds' names 3 columns: expected 4",
    },
  );
});

Deno.test("`decodeYolox()` refuses classIds outside its columns", () => {
  assert.throws(() => decodeYolox(tensor(), { ...OPTIONS, classIds: [80] }), {
    name: "RangeError",
    message:
      "Cannot decode YOLOX output as 'classIds' must be in 0..79: current value is 80",
  });
});
