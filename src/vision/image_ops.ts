/**
 * Pure image operations on interleaved RGB bytes: bilinear resize, crop,
 * letterbox and conversion to model input tensors. No I/O.
 *
 * Resizing samples like OpenCV's `INTER_LINEAR`: half-pixel centres
 * (`sx = (dx + 0.5) * srcW / dstW - 0.5`), edge pixels repeated, weights in
 * 11-bit fixed point and the result rounded half up. Values can differ from
 * OpenCV's by 1 where its own intermediate rounding differs.
 *
 * @module
 */

import type { Box, RgbImage } from "../shared/mod.ts";

/** Fixed-point weight scale of the bilinear filter (11 bits, as OpenCV). */
const WEIGHT_ONE = 2048;
/** Rounding term and shift for a product of two fixed-point weights. */
const ROUND_HALF = 1 << 21;
const SHIFT = 22;

/** Precomputed sample positions and weights along one axis. */
interface AxisTable {
  /** Offset of the first sample, in elements (index times stride). */
  first: Int32Array;
  /** Offset of the second sample, in elements. */
  second: Int32Array;
  /** Weight of the second sample in 0..2048; the first gets the rest. */
  weight: Int32Array;
}

function axisTable(srcLen: number, dstLen: number, stride: number): AxisTable {
  const first = new Int32Array(dstLen);
  const second = new Int32Array(dstLen);
  const weight = new Int32Array(dstLen);
  const ratio = srcLen / dstLen;
  for (let d = 0; d < dstLen; d++) {
    const s = (d + 0.5) * ratio - 0.5;
    let i = Math.floor(s);
    let f = s - i;
    if (i < 0) {
      i = 0;
      f = 0;
    }
    if (i >= srcLen - 1) {
      i = srcLen - 1;
      f = 0;
    }
    const j = f > 0 ? i + 1 : i;
    first[d] = i * stride;
    second[d] = j * stride;
    weight[d] = Math.round(f * WEIGHT_ONE);
  }
  return { first, second, weight };
}

function checkImage(img: RgbImage, action: string): void {
  if (
    !Number.isInteger(img.width) || !Number.isInteger(img.height) ||
    img.width < 1 || img.height < 1
  ) {
    throw new RangeError(
      `Cannot ${action} as the image size must be positive integers: current value is ${img.width}x${img.height}`,
    );
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new TypeError(
      `Cannot ${action} as the image data has ${img.data.length} bytes: expected ${
        img.width * img.height * 3
      } for ${img.width}x${img.height} RGB`,
    );
  }
}

function checkSize(width: number, height: number, action: string): void {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 ||
    height < 1
  ) {
    throw new RangeError(
      `Cannot ${action} as the target size must be positive integers: current value is ${width}x${height}`,
    );
  }
}

/**
 * Resizes `src` into a `dstW` x `dstH` rectangle of `dst`, an interleaved RGB
 * buffer whose rows are `dstStride` bytes apart, starting at byte `dstStart`.
 */
function resizeInto(
  src: RgbImage,
  dst: Uint8Array,
  dstStart: number,
  dstStride: number,
  dstW: number,
  dstH: number,
): void {
  const s = src.data;
  const xs = axisTable(src.width, dstW, 3);
  const ys = axisTable(src.height, dstH, src.width * 3);
  const x0 = xs.first;
  const x1 = xs.second;
  const wx = xs.weight;
  for (let dy = 0; dy < dstH; dy++) {
    const row0 = ys.first[dy];
    const row1 = ys.second[dy];
    const wy1 = ys.weight[dy];
    const wy0 = WEIGHT_ONE - wy1;
    let o = dstStart + dy * dstStride;
    for (let dx = 0; dx < dstW; dx++) {
      const a = row0 + x0[dx];
      const b = row0 + x1[dx];
      const c = row1 + x0[dx];
      const d = row1 + x1[dx];
      const w1 = wx[dx];
      const w0 = WEIGHT_ONE - w1;
      dst[o] = ((s[a] * w0 + s[b] * w1) * wy0 +
        (s[c] * w0 + s[d] * w1) * wy1 + ROUND_HALF) >> SHIFT;
      dst[o + 1] = ((s[a + 1] * w0 + s[b + 1] * w1) * wy0 +
        (s[c + 1] * w0 + s[d + 1] * w1) * wy1 + ROUND_HALF) >> SHIFT;
      dst[o + 2] = ((s[a + 2] * w0 + s[b + 2] * w1) * wy0 +
        (s[c + 2] * w0 + s[d + 2] * w1) * wy1 + ROUND_HALF) >> SHIFT;
      o += 3;
    }
  }
}

/** Target size of {@linkcode resizeBilinear} and {@linkcode toNhwcUint8Batch}. */
export interface ImageSize {
  /** Width in pixels, a positive integer. */
  width: number;
  /** Height in pixels, a positive integer. */
  height: number;
}

/**
 * Resizes an image with bilinear interpolation (OpenCV `INTER_LINEAR`
 * geometry, half-pixel centres). No anti-aliasing: as OpenCV, a large
 * downscale samples only the 2x2 neighbourhood of each output pixel.
 *
 * @example Averaging 2x2 blocks
 * ```ts
 * import { resizeBilinear } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const img = { width: 2, height: 2, data: new Uint8Array(12).fill(10) };
 * assert.deepEqual(resizeBilinear(img, { width: 1, height: 1 }).data, new Uint8Array([10, 10, 10]));
 * ```
 * @param img Source image.
 * @param size Target size.
 * @returns A new image of the target size.
 * @throws {RangeError} When a size is not a positive integer.
 * @throws {TypeError} When `img.data` does not hold `width * height * 3` bytes.
 */
export function resizeBilinear(img: RgbImage, size: ImageSize): RgbImage {
  checkImage(img, "resize image");
  checkSize(size.width, size.height, "resize image");
  const data = new Uint8Array(size.width * size.height * 3);
  if (size.width === img.width && size.height === img.height) {
    data.set(img.data);
  } else {
    resizeInto(img, data, 0, size.width * 3, size.width, size.height);
  }
  return { width: size.width, height: size.height, data };
}

/** Options for {@linkcode cropImage}. */
export interface CropImageOptions {
  /**
   * Padding added on each side, as a fraction of the box's width (left and
   * right) and height (top and bottom). Must be >= 0.
   * @default {0}
   */
  padFraction?: number;
}

/** Result of {@linkcode cropImage}. */
export interface CropImageResult {
  /** The cropped pixels. */
  image: RgbImage;
  /** The integer box that was cut, in source pixels (x2, y2 exclusive). */
  box: Box;
}

/**
 * Cuts a box out of an image. The box is first padded by `padFraction` of its
 * size per side, then widened to whole pixels (x1, y1 floored; x2, y2
 * ceiled, so the crop covers the whole box) and clamped to the image.
 *
 * A box that is degenerate (x2 <= x1 or y2 <= y1), not finite, or that has no
 * pixel inside the image throws a RangeError: callers should drop such boxes
 * before cropping rather than read a meaningless 1x1 crop.
 *
 * @example Padding and clamping
 * ```ts
 * import { cropImage } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const img = { width: 4, height: 4, data: new Uint8Array(48) };
 * const crop = cropImage(img, [1, 1, 3, 3], { padFraction: 1 });
 * assert.deepEqual(crop.box, [0, 0, 4, 4]);
 * ```
 * @param img Source image.
 * @param box Box `[x1, y1, x2, y2]` in source pixels.
 * @param options Padding.
 * @returns The crop and the integer box used.
 * @throws {RangeError} When the box is degenerate, not finite or outside the image, or `padFraction` < 0.
 */
export function cropImage(
  img: RgbImage,
  box: Box,
  options: CropImageOptions = {},
): CropImageResult {
  const { padFraction = 0 } = options;
  checkImage(img, "crop image");
  if (!(padFraction >= 0) || !Number.isFinite(padFraction)) {
    throw new RangeError(
      `Cannot crop image as 'padFraction' must be a finite number >= 0: current value is ${padFraction}`,
    );
  }
  const [bx1, by1, bx2, by2] = box;
  if (
    !Number.isFinite(bx1) || !Number.isFinite(by1) || !Number.isFinite(bx2) ||
    !Number.isFinite(by2) || bx2 <= bx1 || by2 <= by1
  ) {
    throw new RangeError(
      `Cannot crop image as the box is degenerate: current value is [${
        box.join(", ")
      }]`,
    );
  }
  const padW = (bx2 - bx1) * padFraction;
  const padH = (by2 - by1) * padFraction;
  const x1 = Math.max(0, Math.floor(bx1 - padW));
  const y1 = Math.max(0, Math.floor(by1 - padH));
  const x2 = Math.min(img.width, Math.ceil(bx2 + padW));
  const y2 = Math.min(img.height, Math.ceil(by2 + padH));
  if (x2 <= x1 || y2 <= y1) {
    throw new RangeError(
      `Cannot crop image as the box is outside the ${img.width}x${img.height} image: current value is [${
        box.join(", ")
      }]`,
    );
  }
  const w = x2 - x1;
  const h = y2 - y1;
  const data = new Uint8Array(w * h * 3);
  const rowBytes = w * 3;
  for (let y = 0; y < h; y++) {
    const start = ((y1 + y) * img.width + x1) * 3;
    data.set(img.data.subarray(start, start + rowBytes), y * rowBytes);
  }
  return { image: { width: w, height: h, data }, box: [x1, y1, x2, y2] };
}

/** Where the resized image sits inside the letterbox. */
export type LetterboxAlign = "top-left" | "center";

/** Options for {@linkcode letterbox}. */
export interface LetterboxOptions {
  /** Width of the letterboxed image in pixels. */
  width: number;
  /** Height of the letterboxed image in pixels. */
  height: number;
  /**
   * `"top-left"` (YOLOX: no offset) or `"center"` (Ultralytics: the padding
   * is split, the odd pixel going to the right/bottom).
   */
  align: LetterboxAlign;
  /** Byte value of the padding, 0..255. @default {114} */
  padValue?: number;
}

/** Result of {@linkcode letterbox}. */
export interface LetterboxResult {
  /** The letterboxed image, `width` x `height`. */
  image: RgbImage;
  /** Resize ratio r = min(width / w, height / h). */
  scale: number;
  /** Left padding in pixels. */
  padX: number;
  /** Top padding in pixels. */
  padY: number;
}

interface LetterboxGeometry {
  scale: number;
  innerW: number;
  innerH: number;
  padX: number;
  padY: number;
}

function letterboxGeometry(
  img: RgbImage,
  width: number,
  height: number,
  align: LetterboxAlign,
): LetterboxGeometry {
  const scale = Math.min(width / img.width, height / img.height);
  const innerW = Math.min(width, Math.max(1, Math.round(img.width * scale)));
  const innerH = Math.min(height, Math.max(1, Math.round(img.height * scale)));
  let padX = 0;
  let padY = 0;
  if (align === "center") {
    padX = Math.floor((width - innerW) / 2);
    padY = Math.floor((height - innerH) / 2);
  } else if (align !== "top-left") {
    throw new RangeError(
      `Cannot letterbox image as 'align' must be "top-left" or "center": current value is ${align}`,
    );
  }
  return { scale, innerW, innerH, padX, padY };
}

function checkPadValue(padValue: number): void {
  if (!Number.isInteger(padValue) || padValue < 0 || padValue > 255) {
    throw new RangeError(
      `Cannot letterbox image as 'padValue' must be an integer in 0..255: current value is ${padValue}`,
    );
  }
}

/**
 * Resizes an image by r = min(width / w, height / h), keeping its aspect
 * ratio, and places it on a `width` x `height` canvas filled with
 * `padValue`. The resized size is `round(w * r)` x `round(h * r)`.
 *
 * @example A 3x1 image centred on a 3x3 canvas
 * ```ts
 * import { letterbox } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const img = { width: 3, height: 1, data: new Uint8Array(9) };
 * const lb = letterbox(img, { width: 3, height: 3, align: "center" });
 * assert.deepEqual([lb.scale, lb.padX, lb.padY], [1, 0, 1]);
 * ```
 * @param img Source image.
 * @param options Canvas size, alignment and pad value.
 * @returns The canvas, the ratio and the padding offsets.
 * @throws {RangeError} When a size or `padValue` is out of range.
 */
export function letterbox(
  img: RgbImage,
  options: LetterboxOptions,
): LetterboxResult {
  const { width, height, align, padValue = 114 } = options;
  checkImage(img, "letterbox image");
  checkSize(width, height, "letterbox image");
  checkPadValue(padValue);
  const g = letterboxGeometry(img, width, height, align);
  const data = new Uint8Array(width * height * 3).fill(padValue);
  resizeInto(
    img,
    data,
    (g.padY * width + g.padX) * 3,
    width * 3,
    g.innerW,
    g.innerH,
  );
  return {
    image: { width, height, data },
    scale: g.scale,
    padX: g.padX,
    padY: g.padY,
  };
}

/** Options for {@linkcode unletterboxBox}. */
export interface UnletterboxBoxOptions {
  /** Ratio returned by the letterbox. */
  scale: number;
  /** Left padding returned by the letterbox. */
  padX: number;
  /** Top padding returned by the letterbox. */
  padY: number;
  /** Source image width; x is clamped to 0..width. */
  width: number;
  /** Source image height; y is clamped to 0..height. */
  height: number;
}

/**
 * Maps a box from letterbox pixels back to source pixels:
 * `x = (x' - padX) / scale`, clamped to the source image.
 *
 * @example
 * ```ts
 * import { unletterboxBox } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const box = unletterboxBox([10, 20, 30, 40], { scale: 2, padX: 10, padY: 0, width: 100, height: 100 });
 * assert.deepEqual(box, [0, 10, 10, 20]);
 * ```
 * @param box Box in letterbox pixels.
 * @param options Ratio, padding and source size.
 * @returns Box in source pixels.
 */
export function unletterboxBox(box: Box, options: UnletterboxBoxOptions): Box {
  const { scale, padX, padY, width, height } = options;
  const clamp = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
  return [
    clamp((box[0] - padX) / scale, width),
    clamp((box[1] - padY) / scale, height),
    clamp((box[2] - padX) / scale, width),
    clamp((box[3] - padY) / scale, height),
  ];
}

/** Channel order of a planar tensor. */
export type ChannelOrder = "rgb" | "bgr";

/** Options for {@linkcode toNchwFloat32}. */
export interface ToNchwFloat32Options {
  /** Plane order: `"rgb"` (Ultralytics, YOLOv9) or `"bgr"` (YOLOX). */
  order: ChannelOrder;
  /** Factor applied to each byte: 1 for raw 0..255, 1/255 for 0..1. */
  scale: number;
}

/**
 * Converts interleaved RGB bytes to a planar float tensor `[1, 3, h, w]`
 * holding `byte * scale`.
 *
 * @example
 * ```ts
 * import { toNchwFloat32 } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const img = { width: 1, height: 1, data: new Uint8Array([1, 2, 3]) };
 * assert.deepEqual(toNchwFloat32(img, { order: "bgr", scale: 1 }), new Float32Array([3, 2, 1]));
 * ```
 * @param img Source image.
 * @param options Channel order and scale.
 * @returns `3 * width * height` floats, one plane per channel.
 */
export function toNchwFloat32(
  img: RgbImage,
  options: ToNchwFloat32Options,
): Float32Array {
  const { order, scale } = options;
  checkImage(img, "convert image to NCHW");
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  const s = img.data;
  const rPlane = order === "bgr" ? 2 * n : 0;
  const bPlane = order === "bgr" ? 0 : 2 * n;
  const gPlane = n;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    out[rPlane + i] = s[p] * scale;
    out[gPlane + i] = s[p + 1] * scale;
    out[bPlane + i] = s[p + 2] * scale;
  }
  return out;
}

/** Options for {@linkcode letterboxToNchw}. */
export interface LetterboxToNchwOptions extends LetterboxOptions {
  /** Plane order: `"rgb"` (Ultralytics, YOLOv9) or `"bgr"` (YOLOX). */
  order: ChannelOrder;
  /** Factor applied to each byte: 1 for raw 0..255, 1/255 for 0..1. */
  scale: number;
  /**
   * Buffer of `3 * width * height` floats to write into, reused between
   * frames to avoid an allocation.
   * @default {a new Float32Array}
   */
  out?: Float32Array;
}

/** Result of {@linkcode letterboxToNchw}. */
export interface LetterboxToNchwResult {
  /** Planar tensor `[1, 3, height, width]`. */
  tensor: Float32Array;
  /** Resize ratio r = min(width / w, height / h). */
  scale: number;
  /** Left padding in pixels. */
  padX: number;
  /** Top padding in pixels. */
  padY: number;
}

/**
 * {@linkcode letterbox} followed by {@linkcode toNchwFloat32}, in one pass
 * without the intermediate image. The tensor is exactly what the two steps
 * give. This is the per-frame detector path.
 *
 * @example
 * ```ts
 * import { letterboxToNchw } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 255, 0, 0, 255]) };
 * const r = letterboxToNchw(img, { width: 2, height: 2, align: "top-left", order: "bgr", scale: 1 });
 * assert.deepEqual(r.tensor, new Float32Array([255, 255, 114, 114, 0, 0, 114, 114, 0, 0, 114, 114]));
 * ```
 * @param img Source image.
 * @param options Canvas size, alignment, pad value, channel order, scale and an optional output buffer.
 * @returns The tensor, the ratio and the padding offsets.
 * @throws {RangeError} When a size, `padValue` or the length of `out` is wrong.
 */
export function letterboxToNchw(
  img: RgbImage,
  options: LetterboxToNchwOptions,
): LetterboxToNchwResult {
  const { width, height, align, padValue = 114, order, scale } = options;
  checkImage(img, "letterbox image");
  checkSize(width, height, "letterbox image");
  checkPadValue(padValue);
  const n = width * height;
  const out = options.out ?? new Float32Array(n * 3);
  if (out.length !== n * 3) {
    throw new RangeError(
      `Cannot letterbox image as 'out' has ${out.length} floats: expected ${
        n * 3
      }`,
    );
  }
  const g = letterboxGeometry(img, width, height, align);
  const padF = padValue * scale;
  const rPlane = order === "bgr" ? 2 * n : 0;
  const bPlane = order === "bgr" ? 0 : 2 * n;
  const gPlane = n;
  const s = img.data;
  const xs = axisTable(img.width, g.innerW, 3);
  const ys = axisTable(img.height, g.innerH, img.width * 3);
  const x0 = xs.first;
  const x1 = xs.second;
  const wx = xs.weight;
  const xEnd = g.padX + g.innerW;
  const yEnd = g.padY + g.innerH;
  for (let y = 0; y < height; y++) {
    const rowStart = y * width;
    if (y < g.padY || y >= yEnd) {
      out.fill(padF, rPlane + rowStart, rPlane + rowStart + width);
      out.fill(padF, gPlane + rowStart, gPlane + rowStart + width);
      out.fill(padF, bPlane + rowStart, bPlane + rowStart + width);
      continue;
    }
    if (g.padX > 0) {
      out.fill(padF, rPlane + rowStart, rPlane + rowStart + g.padX);
      out.fill(padF, gPlane + rowStart, gPlane + rowStart + g.padX);
      out.fill(padF, bPlane + rowStart, bPlane + rowStart + g.padX);
    }
    if (xEnd < width) {
      out.fill(padF, rPlane + rowStart + xEnd, rPlane + rowStart + width);
      out.fill(padF, gPlane + rowStart + xEnd, gPlane + rowStart + width);
      out.fill(padF, bPlane + rowStart + xEnd, bPlane + rowStart + width);
    }
    const dy = y - g.padY;
    const row0 = ys.first[dy];
    const row1 = ys.second[dy];
    const wy1 = ys.weight[dy];
    const wy0 = WEIGHT_ONE - wy1;
    let o = rowStart + g.padX;
    for (let dx = 0; dx < g.innerW; dx++) {
      const a = row0 + x0[dx];
      const b = row0 + x1[dx];
      const c = row1 + x0[dx];
      const d = row1 + x1[dx];
      const w1 = wx[dx];
      const w0 = WEIGHT_ONE - w1;
      out[rPlane + o] = (((s[a] * w0 + s[b] * w1) * wy0 +
        (s[c] * w0 + s[d] * w1) * wy1 + ROUND_HALF) >> SHIFT) * scale;
      out[gPlane + o] = (((s[a + 1] * w0 + s[b + 1] * w1) * wy0 +
        (s[c + 1] * w0 + s[d + 1] * w1) * wy1 + ROUND_HALF) >> SHIFT) * scale;
      out[bPlane + o] = (((s[a + 2] * w0 + s[b + 2] * w1) * wy0 +
        (s[c + 2] * w0 + s[d + 2] * w1) * wy1 + ROUND_HALF) >> SHIFT) * scale;
      o++;
    }
  }
  return { tensor: out, scale: g.scale, padX: g.padX, padY: g.padY };
}

/**
 * Stretch-resizes each image to `size` (no letterbox, bilinear) and packs
 * them as one uint8 NHWC RGB batch `[N, height, width, 3]`, the OCR input.
 *
 * @example
 * ```ts
 * import { toNhwcUint8Batch } from "./image_ops.ts";
 * import assert from "node:assert/strict";
 * const a = { width: 1, height: 1, data: new Uint8Array([1, 2, 3]) };
 * const b = { width: 1, height: 1, data: new Uint8Array([4, 5, 6]) };
 * assert.deepEqual(toNhwcUint8Batch([a, b], { width: 1, height: 1 }), new Uint8Array([1, 2, 3, 4, 5, 6]));
 * ```
 * @param images Crops to pack, in batch order.
 * @param size Model input size (128 x 64 for fast-plate-ocr).
 * @returns `images.length * width * height * 3` bytes.
 * @throws {RangeError} When a size is not a positive integer.
 */
export function toNhwcUint8Batch(
  images: RgbImage[],
  size: ImageSize,
): Uint8Array {
  checkSize(size.width, size.height, "pack image batch");
  const itemBytes = size.width * size.height * 3;
  const out = new Uint8Array(images.length * itemBytes);
  for (let i = 0; i < images.length; i++) {
    const img = images[i];
    checkImage(img, `pack image ${i} of the batch`);
    if (img.width === size.width && img.height === size.height) {
      out.set(img.data, i * itemBytes);
    } else {
      resizeInto(
        img,
        out,
        i * itemBytes,
        size.width * 3,
        size.width,
        size.height,
      );
    }
  }
  return out;
}
