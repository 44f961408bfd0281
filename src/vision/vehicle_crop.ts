/**
 * The vehicle crop kept as evidence with an event (issue 13): the vehicle
 * box cut from the frame and scaled down so its longer side is at most
 * `maxSide` pixels, then JPEG-encoded (sharp/libvips), so each picture stays
 * small (about 10-30 KB at 320 px, quality 80) whatever the camera's
 * resolution.
 *
 * @module
 */
import type { Box, RgbImage } from "../shared/mod.ts";
import { cropImage, resizeBilinear } from "./image_ops.ts";

/** Longest side of a vehicle crop, pixels. */
export const VEHICLE_CROP_MAX_SIDE = 320;

/**
 * Cuts and scales a vehicle box. Pure.
 *
 * @example A 1000x500 box becomes 320x160
 * ```ts
 * import assert from "node:assert/strict";
 * const img = { width: 1200, height: 600, data: new Uint8Array(1200 * 600 * 3) };
 * const crop = vehicleCrop(img, [100, 50, 1100, 550]);
 * assert.deepEqual([crop.width, crop.height], [320, 160]);
 * ```
 * @param img The frame.
 * @param box The vehicle box, frame pixels.
 * @param options Longest side. @default {{ maxSide: 320 }}
 * @returns The crop.
 * @throws {RangeError} When the box has no pixel in the frame.
 */
export function vehicleCrop(
  img: RgbImage,
  box: Box,
  options: { maxSide?: number } = {},
): RgbImage {
  const { maxSide = VEHICLE_CROP_MAX_SIDE } = options;
  const { image } = cropImage(img, box);
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  if (scale >= 1) return image;
  return resizeBilinear(image, {
    width: Math.max(1, Math.round(image.width * scale)),
    height: Math.max(1, Math.round(image.height * scale)),
  });
}

/**
 * Encodes an RGB image as JPEG with sharp.
 *
 * @param img The image.
 * @param options JPEG quality 1-100. @default {{ quality: 80 }}
 * @returns The JPEG bytes.
 * @throws {Error} When sharp cannot be loaded.
 */
export async function encodeJpeg(
  img: RgbImage,
  options: { quality?: number } = {},
): Promise<Uint8Array> {
  const { quality = 80 } = options;
  const sharp = (await import("sharp")).default;
  // libvips' operation cache would keep recent crops' pixels alive (each
  // is encoded once), and its thread pool one thread per core beside the
  // stage workers: one crop at a time needs neither.
  sharp.cache(false);
  sharp.concurrency(1);
  const out = await sharp(img.data, {
    raw: { width: img.width, height: img.height, channels: 3 },
  }).jpeg({ quality }).toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
