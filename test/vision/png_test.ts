import assert from "node:assert/strict";
import { encodePng } from "../../src/vision/png.ts";
import type { RgbImage } from "../../src/shared/mod.ts";
import { prng } from "../support/random.ts";
import { decodePngWithSharp } from "../support/png_decode.ts";

function noise(width: number, height: number, seed: number): RgbImage {
  const random = prng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  return { width, height, data };
}

Deno.test("`encodePng()` output decodes back (sharp) to the very pixels, for odd sizes and noise", async () => {
  for (
    const [w, h, seed] of [[1, 1, 1], [7, 3, 2], [160, 48, 3], [333, 5, 4]]
  ) {
    const img = noise(w, h, seed);
    const back = await decodePngWithSharp(encodePng(img));
    assert.deepEqual([back.width, back.height], [w, h]);
    assert.deepEqual(back.data, img.data, `${w}x${h}`);
  }
});

Deno.test("a truncated evidence PNG does not decode", async () => {
  const png = encodePng(noise(40, 12, 5));
  await assert.rejects(decodePngWithSharp(png.subarray(0, png.length - 20)));
});
