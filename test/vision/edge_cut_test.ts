import assert from "node:assert/strict";
import { isCutByFrameEdge } from "../../src/vision/edge_cut.ts";

const frame = { width: 1280, height: 720 };

Deno.test("`isCutByFrameEdge()` flags plates at the left or right edge only", () => {
  assert.equal(isCutByFrameEdge([1, 300, 70, 330], frame), true);
  assert.equal(isCutByFrameEdge([1200, 300, 1279.5, 330], frame), true);
  // Cut at the bottom: every character is still in view.
  assert.equal(isCutByFrameEdge([500, 700, 620, 720], frame), false);
  assert.equal(isCutByFrameEdge([500, 300, 620, 330], frame), false);
  assert.equal(isCutByFrameEdge([8, 300, 70, 330], frame, { marginPx: 10 }), true);
});
