import assert from "node:assert/strict";
import type { Detection } from "../../src/shared/mod.ts";
import { fromCrop, planPlateCrops } from "../../src/vision/tiling.ts";

const car = (box: Detection["box"]): Detection => ({
  box,
  score: 0.8,
  classId: 2,
});
const plate = (box: Detection["box"]): Detection => ({
  box,
  score: 0.5,
  classId: 0,
});

Deno.test("`planPlateCrops()` looks again at a 4K car whose plate the whole-frame pass missed", () => {
  const crops = planPlateCrops({ width: 3840, height: 2160 }, {
    vehicles: [car([2993, 1734, 3294, 1955]), car([3313, 1703, 3641, 1927])],
    plates: [plate([3508, 1852, 3612, 1887])],
  });
  assert.equal(crops.length, 1);
  const [x1, y1, x2, y2] = crops[0];
  // The crop holds the whole car, padded, inside the frame.
  assert.ok(x1 < 2993 && y1 < 1734 && x2 > 3294 && y2 > 1955);
  assert.ok(x2 <= 3840 && y2 <= 2160);
});

Deno.test("`planPlateCrops()` adds nothing where the whole-frame pass sees plates at a readable size", () => {
  // The same car in a 1280x720 frame: its plate is ~20 px on the detector's
  // input, which the first pass finds.
  assert.deepEqual(
    planPlateCrops({ width: 1280, height: 720 }, {
      vehicles: [car([400, 300, 720, 520])],
      plates: [],
    }),
    [],
  );
  // A frame the detector sees at full size.
  assert.deepEqual(
    planPlateCrops({ width: 400, height: 300 }, {
      vehicles: [car([10, 10, 300, 200])],
      plates: [],
    }),
    [],
  );
});

Deno.test("`planPlateCrops()` skips cars too small to carry a readable plate and caps the crops", () => {
  const frame = { width: 3840, height: 2160 };
  assert.deepEqual(
    planPlateCrops(frame, {
      vehicles: [car([100, 100, 200, 160])],
      plates: [],
    }),
    [],
  );
  const many = Array.from(
    { length: 10 },
    (_, i) => car([i * 350, 1000, i * 350 + 300, 1200]),
  );
  assert.equal(planPlateCrops(frame, { vehicles: many, plates: [] }).length, 4);
  assert.equal(
    planPlateCrops(frame, { vehicles: many, plates: [] }, { maxCrops: 2 })
      .length,
    2,
  );
});

Deno.test("`fromCrop()` moves boxes back to frame pixels", () => {
  assert.deepEqual(fromCrop([plate([5, 6, 25, 12])], [100, 200, 400, 500]), [
    plate([105, 206, 125, 212]),
  ]);
});
