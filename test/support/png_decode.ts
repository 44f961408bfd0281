/**
 * Decodes a PNG back to its pixels with sharp (libvips), an independent
 * decoder, so tests check what an evidence PNG shows, not its magic bytes.
 *
 * @module
 */
import sharp from "sharp";
import type { RgbImage } from "../../src/shared/mod.ts";

/**
 * Decodes PNG bytes to 8-bit RGB.
 *
 * @param bytes The PNG file.
 * @returns Its pixels.
 * @throws {Error} When sharp cannot decode the whole file (truncated, bad CRC).
 */
export async function decodePngWithSharp(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes, { failOn: "error" })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
