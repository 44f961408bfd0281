import assert from "node:assert/strict";
import type { RgbImage } from "../../src/shared/types.ts";
import {
  cropImage,
  letterbox,
  letterboxToNchw,
  resizeBilinear,
  toNchwFloat32,
  toNhwcUint8Batch,
  unletterboxBox,
} from "../../src/vision/image_ops.ts";

/** An image whose R, G and B bytes all equal `gray[y][x]`. */
function grayImage(gray: number[][]): RgbImage {
  const height = gray.length;
  const width = gray[0].length;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.fill(gray[y][x], (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { width, height, data };
}

/** Channel `c` of every pixel, row by row. */
function channel(img: RgbImage, c: number): number[] {
  const out: number[] = [];
  for (let i = c; i < img.data.length; i += 3) out.push(img.data[i]);
  return out;
}

/** A deterministic pseudo-random image (linear congruential bytes). */
function noiseImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s >> 23;
  }
  return { width, height, data };
}

Deno.test("`resizeBilinear()` averages 2x2 blocks when halving both sides", () => {
  // 4x2 image, pixels (R, G, B) = (v, 2v, 255 - v).
  const values = [10, 20, 30, 40, 50, 60, 70, 80];
  const data = new Uint8Array(values.flatMap((v) => [v, 2 * v, 255 - v]));
  const out = resizeBilinear({ width: 4, height: 2, data }, {
    width: 2,
    height: 1,
  });
  // px0 = mean(10, 20, 50, 60) = 35; px1 = mean(30, 40, 70, 80) = 55.
  assert.deepEqual(
    out,
    {
      width: 2,
      height: 1,
      data: new Uint8Array([35, 70, 220, 55, 110, 200]),
    },
  );
});

Deno.test("`resizeBilinear()` rounds half up when a mean ends in .5", () => {
  const img = grayImage([[0, 1], [0, 1]]);
  const out = resizeBilinear(img, { width: 1, height: 1 });
  assert.deepEqual(out.data, new Uint8Array([1, 1, 1]));
});

Deno.test("`resizeBilinear()` uses half-pixel centres and repeats edges when upscaling", () => {
  // sx = (dx + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> 0, 25, 75, 100.
  const out = resizeBilinear(grayImage([[0, 100]]), { width: 4, height: 2 });
  assert.deepEqual(channel(out, 0), [0, 25, 75, 100, 0, 25, 75, 100]);
  assert.deepEqual(channel(out, 2), [0, 25, 75, 100, 0, 25, 75, 100]);
});

Deno.test("`resizeBilinear()` returns a copy when the size is unchanged", () => {
  const img = noiseImage(5, 3, 1);
  const out = resizeBilinear(img, { width: 5, height: 3 });
  assert.deepEqual(out.data, img.data);
  assert.notEqual(out.data, img.data);
});

Deno.test("`resizeBilinear()` throws when the data length or size is wrong", () => {
  assert.throws(
    () =>
      resizeBilinear({ width: 2, height: 2, data: new Uint8Array(11) }, {
        width: 1,
        height: 1,
      }),
    TypeError,
  );
  assert.throws(
    () => resizeBilinear(noiseImage(2, 2, 1), { width: 0, height: 1 }),
    RangeError,
  );
});

Deno.test("`cropImage()` cuts the exact pixels of an integer box", () => {
  // 4x4, gray value 10 * y + x.
  const img = grayImage([
    [0, 1, 2, 3],
    [10, 11, 12, 13],
    [20, 21, 22, 23],
    [30, 31, 32, 33],
  ]);
  const crop = cropImage(img, [1, 1, 3, 3]);
  assert.deepEqual(crop.box, [1, 1, 3, 3]);
  assert.equal(crop.image.width, 2);
  assert.equal(crop.image.height, 2);
  assert.deepEqual(channel(crop.image, 0), [11, 12, 21, 22]);
});

Deno.test("`cropImage()` floors the start and ceils the end of a fractional box", () => {
  const img = noiseImage(10, 10, 2);
  assert.deepEqual(cropImage(img, [0.5, 1.5, 2.2, 3.9]).box, [0, 1, 3, 4]);
});

Deno.test("`cropImage()` pads by a fraction of the box per side and clamps to the image", () => {
  const img = noiseImage(20, 10, 3);
  // Box 10 wide, 4 high: pad 1 px left/right and 0.4 px top/bottom.
  assert.deepEqual(
    cropImage(img, [5, 3, 15, 7], { padFraction: 0.1 }).box,
    [4, 2, 16, 8],
  );
  // Pad 5 px left/right and 2 px top/bottom, clamped to 20x10.
  const clamped = cropImage(img, [2, 1, 12, 5], { padFraction: 0.5 });
  assert.deepEqual(clamped.box, [0, 0, 17, 7]);
  assert.equal(clamped.image.width, 17);
  assert.equal(clamped.image.data.length, 17 * 7 * 3);
});

Deno.test("`cropImage()` throws a RangeError when the box is outside or degenerate", () => {
  const img = noiseImage(4, 4, 4);
  assert.throws(() => cropImage(img, [5, 5, 8, 8]), RangeError);
  assert.throws(() => cropImage(img, [-3, 0, 0, 2]), RangeError);
  assert.throws(() => cropImage(img, [1, 1, 1, 3]), RangeError);
  assert.throws(() => cropImage(img, [2, 1, 1, 3]), RangeError);
  assert.throws(() => cropImage(img, [0, 0, NaN, 3]), RangeError);
  assert.throws(
    () => cropImage(img, [0, 0, 2, 2], { padFraction: -0.1 }),
    RangeError,
  );
});

Deno.test("`letterbox()` puts the image at the top when aligned top-left", () => {
  const img = grayImage([[10, 20, 30]]);
  const lb = letterbox(img, { width: 3, height: 3, align: "top-left" });
  assert.deepEqual([lb.scale, lb.padX, lb.padY], [1, 0, 0]);
  assert.deepEqual(
    channel(lb.image, 1),
    [10, 20, 30, 114, 114, 114, 114, 114, 114],
  );
});

Deno.test("`letterbox()` centres the image when aligned center", () => {
  const img = grayImage([[10, 20, 30]]);
  const lb = letterbox(img, {
    width: 3,
    height: 3,
    align: "center",
    padValue: 0,
  });
  assert.deepEqual([lb.scale, lb.padX, lb.padY], [1, 0, 1]);
  assert.deepEqual(channel(lb.image, 1), [0, 0, 0, 10, 20, 30, 0, 0, 0]);
});

Deno.test("`letterbox()` upscales with bilinear and centres a 3x1 image on 6x6", () => {
  const lb = letterbox(grayImage([[0, 100, 200]]), {
    width: 6,
    height: 6,
    align: "center",
  });
  // r = 2, inner 6x2, padY = (6 - 2) / 2 = 2.
  assert.deepEqual([lb.scale, lb.padX, lb.padY], [2, 0, 2]);
  const p = 114;
  const row = [0, 25, 75, 125, 175, 200];
  assert.deepEqual(channel(lb.image, 0), [
    ...[p, p, p, p, p, p],
    ...[p, p, p, p, p, p],
    ...row,
    ...row,
    ...[p, p, p, p, p, p],
    ...[p, p, p, p, p, p],
  ]);
});

Deno.test("`letterbox()` gives the odd padding pixel to the right when centring", () => {
  // 1x2 on 4x4: r = 2, inner 2x4, padX = 1, the right side gets 1 too.
  const lb = letterbox(grayImage([[50], [50]]), {
    width: 4,
    height: 4,
    align: "center",
  });
  assert.deepEqual([lb.scale, lb.padX, lb.padY], [2, 1, 0]);
  assert.deepEqual(channel(lb.image, 0).slice(0, 4), [114, 50, 50, 114]);
  // 1x3 on 4x4: r = 4/3, inner 1x4, padX = floor(3 / 2) = 1.
  const odd = letterbox(grayImage([[50], [50], [50]]), {
    width: 4,
    height: 4,
    align: "center",
  });
  assert.deepEqual([odd.padX, odd.padY], [1, 0]);
  assert.deepEqual(channel(odd.image, 0).slice(0, 4), [114, 50, 114, 114]);
});

Deno.test("`letterbox()` throws on a bad pad value or alignment", () => {
  const img = noiseImage(2, 2, 5);
  assert.throws(
    () =>
      letterbox(img, { width: 4, height: 4, align: "center", padValue: 256 }),
    RangeError,
  );
  assert.throws(
    () =>
      letterbox(img, {
        width: 4,
        height: 4,
        align: "middle" as "center",
      }),
    RangeError,
  );
});

Deno.test("`unletterboxBox()` maps a box back to source pixels after a centred letterbox", () => {
  const img = noiseImage(1280, 720, 6);
  const lb = letterbox(img, { width: 416, height: 416, align: "center" });
  // r = 0.325, inner 416x234, padY = 91.
  assert.deepEqual([lb.scale, lb.padX, lb.padY], [0.325, 0, 91]);
  // Source [100, 200, 300, 400] -> letterbox [32.5, 156, 97.5, 221].
  const back = unletterboxBox([32.5, 156, 97.5, 221], {
    scale: lb.scale,
    padX: lb.padX,
    padY: lb.padY,
    width: 1280,
    height: 720,
  });
  const expected = [100, 200, 300, 400];
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(back[i] - expected[i]) < 1e-9, `${back[i]}`);
  }
});

Deno.test("`unletterboxBox()` clamps a box that reaches into the padding", () => {
  const box = unletterboxBox([-10, 80, 500, 350], {
    scale: 0.5,
    padX: 0,
    padY: 100,
    width: 800,
    height: 400,
  });
  assert.deepEqual(box, [0, 0, 800, 400]);
});

Deno.test("`toNchwFloat32()` writes planes in RGB or BGR order with the scale", () => {
  const img = {
    width: 2,
    height: 1,
    data: new Uint8Array([255, 0, 51, 102, 204, 0]),
  };
  assert.deepEqual(
    toNchwFloat32(img, { order: "rgb", scale: 1 }),
    new Float32Array([255, 102, 0, 204, 51, 0]),
  );
  assert.deepEqual(
    toNchwFloat32(img, { order: "bgr", scale: 1 / 255 }),
    new Float32Array([51, 0, 0, 204, 255, 102].map((v) => v * (1 / 255))),
  );
});

Deno.test("`letterboxToNchw()` equals letterbox then toNchwFloat32", () => {
  const img = noiseImage(37, 23, 7);
  for (const align of ["top-left", "center"] as const) {
    for (const order of ["rgb", "bgr"] as const) {
      for (const [width, height] of [[32, 32], [64, 32], [16, 48]]) {
        const scale = order === "rgb" ? 1 / 255 : 1;
        const lb = letterbox(img, { width, height, align });
        const expected = toNchwFloat32(lb.image, { order, scale });
        const fused = letterboxToNchw(img, {
          width,
          height,
          align,
          order,
          scale,
        });
        assert.deepEqual(fused.tensor, expected);
        assert.deepEqual(
          [fused.scale, fused.padX, fused.padY],
          [lb.scale, lb.padX, lb.padY],
        );
      }
    }
  }
});

Deno.test("`letterboxToNchw()` writes into a given buffer and rejects a wrong length", () => {
  const img = noiseImage(8, 4, 8);
  const out = new Float32Array(3 * 8 * 8).fill(-1);
  const r = letterboxToNchw(img, {
    width: 8,
    height: 8,
    align: "top-left",
    order: "bgr",
    scale: 1,
    out,
  });
  assert.equal(r.tensor, out);
  assert.ok(out.every((v) => v >= 0));
  // Row 4 onwards is padding in every plane.
  assert.equal(out[4 * 8], 114);
  assert.equal(out[64 + 63], 114);
  assert.throws(
    () =>
      letterboxToNchw(img, {
        width: 8,
        height: 8,
        align: "top-left",
        order: "bgr",
        scale: 1,
        out: new Float32Array(10),
      }),
    RangeError,
  );
});

Deno.test("`toNhwcUint8Batch()` stretch-resizes and concatenates in order", () => {
  const a = grayImage([[10, 20], [30, 40]]); // 2x2 -> 1x1 mean 25
  const b = { width: 1, height: 1, data: new Uint8Array([1, 2, 3]) };
  const batch = toNhwcUint8Batch([a, b], { width: 1, height: 1 });
  assert.deepEqual(batch, new Uint8Array([25, 25, 25, 1, 2, 3]));
  // Stretch, not letterbox: a 2x1 source fills a 4x2 target.
  const c = toNhwcUint8Batch([grayImage([[0, 100]])], { width: 4, height: 2 });
  assert.deepEqual(
    Array.from(c.filter((_, i) => i % 3 === 0)),
    [0, 25, 75, 100, 0, 25, 75, 100],
  );
});
