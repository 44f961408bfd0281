import assert from "node:assert/strict";
import { encodeJpeg, vehicleCrop } from "../../src/vision/vehicle_crop.ts";

function gradient(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = x % 256;
      data[i + 1] = y % 256;
      data[i + 2] = 128;
    }
  }
  return { width, height, data };
}

Deno.test("vehicleCrop() bounds the longer side and keeps the aspect", () => {
  const frame = gradient(3840, 2160);
  const crop = vehicleCrop(frame, [1000, 800, 2600, 1600]);
  assert.deepEqual([crop.width, crop.height], [320, 160]);
  const small = vehicleCrop(frame, [10, 10, 110, 60]);
  assert.deepEqual([small.width, small.height], [100, 50]); // never enlarged
  assert.throws(() => vehicleCrop(frame, [5000, 5000, 5100, 5100]), RangeError);
});

Deno.test("encodeJpeg() gives a small JPEG of a 4K vehicle box", async () => {
  const crop = vehicleCrop(gradient(3840, 2160), [0, 0, 3000, 2000]);
  const jpeg = await encodeJpeg(crop);
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  assert.ok(jpeg.length < 64 * 1024, `${jpeg.length} bytes`);
});
