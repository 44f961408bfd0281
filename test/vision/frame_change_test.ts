import assert from "node:assert/strict";
import {
  type FrameGateState,
  gateFrame,
  type GreyThumb,
  greyThumb,
  thumbDifference,
} from "../../src/vision/frame_change.ts";

function solid(width: number, height: number, rgb: [number, number, number]) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, data };
}

function thumb(values: number[]): GreyThumb {
  return { width: values.length, height: 1, data: new Uint8Array(values) };
}

function run(thumbs: GreyThumb[]) {
  let state: FrameGateState | null = null;
  return thumbs.map((t) => {
    const d = gateFrame(state, t);
    state = d.state;
    return d.reason;
  });
}

Deno.test("greyThumb() keeps square cells along the longer side and averages luma", () => {
  const t = greyThumb(solid(1280, 720, [255, 255, 255]));
  assert.deepEqual([t.width, t.height], [64, 36]);
  assert.ok(t.data.every((v) => v === 255));
  const portrait = greyThumb(solid(404, 720, [0, 0, 0]));
  assert.deepEqual([portrait.width, portrait.height], [36, 64]);
  // BT.601 weights: pure green is brighter than pure red, red than blue.
  const [r, g, b] = [[255, 0, 0], [0, 255, 0], [0, 0, 255]].map((c) =>
    greyThumb(solid(8, 8, c as [number, number, number]), { cells: 1 })
      .data[0]
  );
  assert.ok(g > r && r > b, `${r} ${g} ${b}`);
});

Deno.test("greyThumb() sees a small object in its cell", () => {
  const img = solid(640, 360, [40, 40, 40]);
  // A 20x20 white square (a plate-sized patch at 640 px) in one corner cell.
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 20; x++) {
      img.data.fill(255, (y * 640 + x) * 3, (y * 640 + x) * 3 + 3);
    }
  }
  const a = greyThumb(solid(640, 360, [40, 40, 40]));
  const b = greyThumb(img);
  const d = thumbDifference(a, b, { cellDelta: 3 });
  assert.ok(d.changedCells >= 1 && d.maxDelta > 100, JSON.stringify(d));
});

Deno.test("greyThumb() refuses data shorter than the image", () => {
  assert.throws(
    () => greyThumb({ width: 4, height: 4, data: new Uint8Array(10) }),
    RangeError,
  );
});

Deno.test("thumbDifference() counts every cell when the grids differ", () => {
  const d = thumbDifference(thumb([1, 2]), thumb([1, 2, 3]), { cellDelta: 8 });
  assert.deepEqual(d, { maxDelta: 255, changedCells: 2 });
});

Deno.test("gateFrame() reads a still scene twice, then skips at most 10 frames in a row", () => {
  const reasons = run(Array.from({ length: 26 }, () => thumb([90, 90])));
  assert.deepEqual(reasons.slice(0, 3), ["first", "confirm", "still"]);
  const processed = reasons.flatMap((r, i) => r === "still" ? [] : [i]);
  assert.deepEqual(processed, [0, 1, 12, 23]);
  for (let i = 1; i < processed.length; i++) {
    assert.ok(processed[i] - processed[i - 1] - 1 <= 10);
  }
});

Deno.test("gateFrame() processes a frame as soon as one cell moves, then confirms", () => {
  const still = thumb([90, 90, 90]);
  const moved = thumb([90, 90, 140]);
  const reasons = run([still, still, still, moved, moved, moved]);
  assert.deepEqual(reasons, [
    "first",
    "confirm",
    "still",
    "moved",
    "confirm",
    "still",
  ]);
});

Deno.test("gateFrame() compares with the last processed frame, so slow drift adds up", () => {
  // 2 grey levels a frame: never over the threshold frame to frame, but it
  // passes it against the last processed frame after two frames.
  const frames = Array.from({ length: 8 }, (_, i) => thumb([90 + 2 * i]));
  const reasons = run(frames);
  assert.deepEqual(reasons.slice(0, 2), ["first", "confirm"]);
  assert.ok(reasons.slice(2).includes("moved"), reasons.join());
  // Nothing is ever more than the threshold away from a processed frame.
  let ref = frames[0].data[0];
  reasons.forEach((r, i) => {
    const v = frames[i].data[0];
    if (r !== "still") ref = v;
    else assert.ok(Math.abs(v - ref) <= 3);
  });
});

Deno.test("gateFrame() ignores noise under the threshold", () => {
  const reasons = run([
    thumb([90, 90]),
    thumb([92, 88]),
    thumb([93, 87]),
    thumb([91, 89]),
  ]);
  assert.deepEqual(reasons, ["first", "confirm", "still", "still"]);
});
