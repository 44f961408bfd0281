import assert from "node:assert/strict";
import type { IgnoreZone } from "../../src/config/mod.ts";
import { inIgnoreZone, zonesOfCamera } from "../../src/vision/ignore_zones.ts";
import { type FramePlateRead, smoothClip } from "../../src/vision/smooth.ts";

const bottomRight: IgnoreZone = [[0.7, 0.85], [1, 0.85], [1, 1], [0.7, 1]];
const frame = { width: 1280, height: 720 };

Deno.test("`inIgnoreZone()` tests the plate's centre against polygons in relative coordinates", () => {
  assert.equal(
    inIgnoreZone([1000, 650, 1180, 690], frame, [bottomRight]),
    true,
  );
  // The same place in a 4K frame of the same camera.
  assert.equal(
    inIgnoreZone([3000, 1950, 3540, 2070], { width: 3840, height: 2160 }, [
      bottomRight,
    ]),
    true,
  );
  assert.equal(inIgnoreZone([500, 400, 600, 430], frame, [bottomRight]), false);
  // A triangle: the box's corner is in it, its centre is not.
  const triangle: IgnoreZone = [[0, 0], [0.5, 0], [0, 0.5]];
  assert.equal(inIgnoreZone([300, 150, 500, 250], frame, [triangle]), false);
});

Deno.test("`zonesOfCamera()` adds the default zones to the camera's own", () => {
  const cameras = {
    default: { ignore_zones: [bottomRight] },
    front: { ignore_zones: [[[0, 0], [1, 0], [1, 0.1]]] as IgnoreZone[] },
  };
  assert.equal(zonesOfCamera(cameras, "front").length, 2);
  assert.equal(zonesOfCamera(cameras, "rear").length, 1);
  assert.equal(zonesOfCamera({}, null).length, 0);
});

Deno.test("`smoothClip()` reports no plate whose reads lie in an ignore zone", () => {
  const reads: FramePlateRead[] = [0, 1, 2].map((f) => ({
    frameIdx: f,
    plateBox: [1000 + 20 * f, 650, 1180 + 20 * f, 690],
    carBox: [900, 400, 1270, 715],
    carFound: true,
    detScore: 0.8,
    read: {
      text: "KX51ABC",
      confidence: 0.99,
      charProbs: [...Array(7)].map(() => 0.99),
    },
  }));
  assert.equal(smoothClip(reads).length, 1);
  assert.equal(
    smoothClip(reads, { ignoreZones: [bottomRight], frame }).length,
    0,
  );
});
