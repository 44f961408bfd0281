import assert from "node:assert/strict";
import type { Box } from "../../src/shared/mod.ts";
import {
  planOcr,
  planPlateDetect,
  settledTracks,
} from "../../src/vision/online_tracks.ts";
import type { FramePlateRead } from "../../src/vision/smooth.ts";

function read(
  frameIdx: number,
  text: string,
  options: { confidence?: number; box?: Box } = {},
): FramePlateRead {
  const { confidence = 0.95, box = [100, 100, 160, 120] } = options;
  return {
    frameIdx,
    plateBox: box,
    carBox: [box[0] - 40, box[1] - 60, box[2] + 40, box[3] + 40],
    carFound: true,
    detScore: 0.9,
    read: { text, confidence, charProbs: [...text].map(() => confidence) },
  };
}

function plate(box: Box) {
  return {
    plateBox: box,
    score: 0.9,
    carBox: [0, 0, 640, 480] as Box,
    carFound: false,
  };
}

Deno.test("settledTracks() needs the last three reads to agree, each confident", () => {
  assert.equal(
    settledTracks([read(0, "AB123CD"), read(1, "AB123CD")]).length,
    0,
  );
  assert.equal(
    settledTracks([read(0, "AB123CD"), read(1, "AB123CD"), read(2, "AB128CD")])
      .length,
    0,
  );
  assert.equal(
    settledTracks([
      read(0, "AB123CD"),
      read(1, "AB123CD", { confidence: 0.7 }),
      read(2, "AB123CD"),
    ]).length,
    0,
  );
  const [t] = settledTracks([
    read(0, "AB128CD"),
    read(1, "AB123CD"),
    read(2, "AB123CD"),
    read(3, "AB123CD", { box: [104, 100, 164, 120] }),
  ]);
  assert.deepEqual(t, {
    text: "AB123CD",
    lastFrameIdx: 3,
    plateBox: [104, 100, 164, 120],
    carBox: [64, 40, 204, 160],
    reads: 4,
  });
});

Deno.test("settledTracks() refuses texts shorter than a plate", () => {
  assert.equal(
    settledTracks([read(0, "AB"), read(1, "AB"), read(2, "AB")]).length,
    0,
  );
});

Deno.test("planOcr() skips a plate only within the tracker's gap of the last read", () => {
  const tracks = settledTracks([
    read(0, "AB123CD"),
    read(1, "AB123CD"),
    read(2, "AB123CD"),
  ]);
  const p = plate([101, 100, 161, 120]);
  assert.equal(planOcr([p], { frameIdx: 3, tracks }).settled.length, 1);
  assert.equal(planOcr([p], { frameIdx: 12, tracks }).settled.length, 1);
  // 10 frames strictly between reads is the most the tracker bridges.
  assert.equal(planOcr([p], { frameIdx: 13, tracks }).read.length, 1);
  // A frame before the last read is never decided by it.
  assert.equal(planOcr([p], { frameIdx: 2, tracks }).read.length, 1);
});

Deno.test("planOcr() reads a plate whose box changed a lot", () => {
  const tracks = settledTracks([
    read(0, "AB123CD"),
    read(1, "AB123CD"),
    read(2, "AB123CD"),
  ]);
  // Moved by most of its width.
  assert.equal(
    planOcr([plate([140, 100, 200, 120])], { frameIdx: 3, tracks }).read.length,
    1,
  );
  // Grown (closer): 60x20 -> 90x30 overlaps by 0.44.
  assert.equal(
    planOcr([plate([100, 100, 190, 130])], { frameIdx: 3, tracks }).read.length,
    1,
  );
});

Deno.test("planOcr() reads every plate a settled track could hold when two compete", () => {
  const tracks = settledTracks([
    read(0, "AB123CD"),
    read(1, "AB123CD"),
    read(2, "AB123CD"),
  ]);
  const plan = planOcr([
    plate([100, 100, 160, 120]),
    plate([104, 101, 164, 121]),
  ], {
    frameIdx: 3,
    tracks,
  });
  assert.equal(plan.read.length, 2);
  assert.equal(plan.settled.length, 0);
});

Deno.test("planOcr() keeps a new plate beside a settled one", () => {
  const tracks = settledTracks([
    read(0, "AB123CD"),
    read(1, "AB123CD"),
    read(2, "AB123CD"),
  ]);
  const settled = plate([100, 100, 160, 120]);
  const fresh = plate([400, 300, 460, 320]);
  const plan = planOcr([fresh, settled], { frameIdx: 4, tracks });
  assert.deepEqual(plan.read, [fresh]);
  assert.deepEqual(plan.settled, [{
    plate: settled,
    text: "AB123CD",
    lastFrameIdx: 2,
  }]);
});

Deno.test("planPlateDetect() leaves the detector out only when each vehicle has a live settled track of its own", () => {
  const carA: Box = [60, 40, 220, 160];
  const carB: Box = [300, 40, 460, 160];
  const track = (carBox: Box | null, lastFrameIdx = 7) => ({
    text: "AB123CD",
    lastFrameIdx,
    plateBox: [100, 100, 160, 120] as Box,
    carBox,
    reads: 3,
  });
  const at = (
    vehicles: Box[],
    tracks: ReturnType<typeof track>[],
    frameIdx = 9,
  ) => planPlateDetect(vehicles.map((box) => ({ box })), { frameIdx, tracks });
  assert.equal(at([carA], [track(carA)]), true);
  assert.equal(at([carA, carB], [track(carA), track(carB)]), true);
  // A vehicle no track holds (a new one): run it.
  assert.equal(at([carA, carB], [track(carA)]), false);
  // One track cannot hold two vehicles.
  assert.equal(at([carA, [62, 40, 222, 160]], [track(carA)]), false);
  // The vehicle moved a lot since the last read.
  assert.equal(at([[140, 40, 300, 160]], [track(carA)]), false);
  // The track's last read is past the gap, or its vehicle was never found.
  assert.equal(at([carA], [track(carA)], 18), false);
  assert.equal(at([carA], [track(null)]), false);
  // No vehicle at all: a plate may be on a vehicle the detector missed.
  assert.equal(at([], [track(carA)]), false);
});

Deno.test("settledTracks() keeps the car box of the track's last read (null when the vehicle was not found)", () => {
  const reads = [0, 1, 2].map((f) => read(f, "AB123CD"));
  assert.deepEqual(settledTracks(reads)[0].carBox, reads[2].carBox);
  const unfound = reads.map((r) => ({ ...r, carFound: false }));
  assert.equal(settledTracks(unfound)[0].carBox, null);
});
