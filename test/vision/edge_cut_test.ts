import assert from "node:assert/strict";
import { isAtFrameEdge, looksWhole } from "../../src/vision/edge_cut.ts";

const frame = { width: 1280, height: 720 };

Deno.test("`isAtFrameEdge()` flags plates at the left or right edge only", () => {
  assert.equal(isAtFrameEdge([1, 300, 70, 330], frame), true);
  assert.equal(isAtFrameEdge([1200, 300, 1279.5, 330], frame), true);
  // Cut at the bottom: every character is still in view.
  assert.equal(isAtFrameEdge([500, 700, 620, 720], frame), false);
  assert.equal(isAtFrameEdge([500, 300, 620, 330], frame), false);
  assert.equal(isAtFrameEdge([8, 300, 70, 330], frame, { marginPx: 10 }), true);
  // The margin grows with the frame (one detector input pixel).
  assert.equal(
    isAtFrameEdge([9, 300, 70, 330], { width: 3840, height: 2160 }),
    true,
  );
});

Deno.test("`looksWhole()` keeps whole plates at the edge and drops cut ones", () => {
  const read = (text: string, extra = {}) => ({
    text,
    confidence: 1,
    charProbs: [],
    ...extra,
  });
  assert.equal(looksWhole(read("B201TXM", { formatted: "B 201 TXM" })), true);
  assert.equal(
    looksWhole(read("24LSB", { region: "Netherlands", regionProb: 0.9 })),
    false,
  );
  assert.equal(
    looksWhole(read("7ABC123", { region: "United States", regionProb: 0.9 })),
    true,
  );
  assert.equal(
    looksWhole(read("ABC12", { region: "United States", regionProb: 0.9 })),
    false,
  );
  assert.equal(
    looksWhole(read("ABC1234", { region: "United States", regionProb: 0.2 })),
    false,
  );
});

Deno.test("`isAtFrameEdge()` tells a cut plate's box from a whole plate near the edge", () => {
  // XS-NB-23 cut after its X (384 px wide frame): the box stops 4.8 px short.
  assert.equal(
    isAtFrameEdge([4.8, 316, 201, 379], { width: 384, height: 480 }),
    true,
  );
  // RK15 YUH, whole, 14.5 px from the edge of a 1280 px frame.
  assert.equal(isAtFrameEdge([14.5, 475.5, 89.7, 516], frame), false);
});
