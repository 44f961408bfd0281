import assert from "node:assert/strict";
import type { Box } from "../../src/shared/mod.ts";
import { type FramePlateRead, smoothClip } from "../../src/vision/smooth.ts";
import {
  frameSignature,
  isStaticText,
  sceneMoves,
} from "../../src/vision/static_text.ts";

function label(frames: number, jitter = 0, carFound = false): FramePlateRead[] {
  return Array.from({ length: frames }, (_, f) => {
    const d = f % 2 ? jitter : 0;
    const plateBox: Box = [1000 + d, 650, 1180 + d, 690];
    return {
      frameIdx: f,
      plateBox,
      carBox: carFound ? [900, 400, 1270, 715] : [0, 0, 1280, 720],
      carFound,
      detScore: 0.7,
      read: {
        text: "KX51ABC",
        confidence: 0.99,
        charProbs: [...Array(7)].map(() => 0.99),
      },
    };
  });
}

Deno.test("`smoothClip()` drops text standing still on no vehicle only when the scene moves", () => {
  assert.deepEqual(smoothClip(label(10)).map((p) => p.text), ["KX51ABC"]);
  assert.deepEqual(smoothClip(label(10), { sceneMoves: true }), []);
});

Deno.test("`isStaticText()` keeps plates that move, plates on vehicles and short sightings", () => {
  const still = (reads: FramePlateRead[]) =>
    reads.map((r) => ({ plateBox: r.plateBox, carFound: r.carFound }));
  assert.equal(isStaticText(still(label(10))), true);
  assert.equal(isStaticText(still(label(10, 12))), false); // moves 12 px
  assert.equal(isStaticText(still(label(10, 0, true))), false); // on a car
  assert.equal(isStaticText(still(label(3))), false); // too short
});

Deno.test("`sceneMoves()` tells a moving scene from a still one by frame signatures", () => {
  const frame = (v: number) => ({
    width: 64,
    height: 36,
    data: new Uint8Array(64 * 36 * 3).fill(v),
  });
  const a = frameSignature(frame(40));
  const b = frameSignature(frame(80));
  assert.equal(a.length, 144);
  assert.equal(sceneMoves([[0, a], [1, a], [2, a], [3, a]]), false);
  assert.equal(sceneMoves([[0, a], [1, b], [2, a], [3, b]]), true);
  assert.equal(sceneMoves([[0, a]]), false);
});
