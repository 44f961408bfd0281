import assert from "node:assert/strict";
import type { Box } from "../../src/shared/mod.ts";
import {
  type FrameVehicles,
  vehicleSpan,
} from "../../src/vision/vehicle_span.ts";

/** A car creeping right 4 px a frame in frames `from..to`, beside a parked van. */
function drive(from: number, to: number, skip: number[] = []): FrameVehicles[] {
  const frames: FrameVehicles[] = [];
  for (let i = from; i <= to; i++) {
    if (skip.includes(i)) continue;
    const car: Box = [100 + 4 * i, 300, 400 + 4 * i, 560];
    frames.push({ frameIdx: i, boxes: [[900, 280, 1200, 600], car] });
  }
  return frames;
}

const carAt = (i: number): Box => [100 + 4 * i, 300, 400 + 4 * i, 560];

Deno.test("`vehicleSpan()` follows the vehicle from its first and last read to where it leaves", () => {
  const frames = drive(0, 29);
  const reads = [8, 10].map((frameIdx) => ({
    frameIdx,
    carBox: carAt(frameIdx),
  }));
  assert.deepEqual(vehicleSpan(reads, frames), {
    firstFrame: 0,
    lastFrame: 29,
  });
  // Without frames the span is the reads'.
  assert.deepEqual(vehicleSpan(reads, []), { firstFrame: 8, lastFrame: 10 });
});

Deno.test("`vehicleSpan()` bridges frames the gate left out and a few missed detections, not a departure", () => {
  // Frames 12-20 were left out by the frame-change gate (not listed); the
  // detector missed the car in 22-24 (listed, only the van).
  const frames = drive(0, 29, [12, 13, 14, 15, 16, 17, 18, 19, 20]).map((f) =>
    f.frameIdx >= 22 && f.frameIdx <= 24 ? { ...f, boxes: [f.boxes[0]] } : f
  );
  const reads = [{ frameIdx: 10, carBox: carAt(10) }];
  assert.deepEqual(vehicleSpan(reads, frames), {
    firstFrame: 0,
    lastFrame: 29,
  });
  // The car gone after frame 14: 15 processed frames without it end the span.
  const gone = drive(0, 29).map((f) =>
    f.frameIdx > 14 ? { ...f, boxes: [f.boxes[0]] } : f
  );
  assert.deepEqual(vehicleSpan(reads, gone), { firstFrame: 0, lastFrame: 14 });
  assert.deepEqual(
    vehicleSpan(reads, gone, { maxMissedFrames: 20 }).lastFrame,
    14,
  );
});

Deno.test("`vehicleSpan()` does not jump to another vehicle, and keeps the reads' span without a detected vehicle", () => {
  // A second car takes the place of the first at frame 20 after a jump.
  const frames = drive(0, 19).concat(
    [20, 21, 22].map((frameIdx) => ({
      frameIdx,
      boxes: [[600, 300, 700, 380] as Box],
    })),
  );
  const reads = [{ frameIdx: 5, carBox: carAt(5) }];
  assert.deepEqual(vehicleSpan(reads, frames), {
    firstFrame: 0,
    lastFrame: 19,
  });
  assert.deepEqual(
    vehicleSpan(
      [{ frameIdx: 5, carBox: null }, { frameIdx: 7, carBox: null }],
      frames,
    ),
    { firstFrame: 5, lastFrame: 7 },
  );
  assert.throws(() => vehicleSpan([], frames), RangeError);
});
