/**
 * Binary PPM (P6, 8-bit) encoding and decoding: the frame format on disk.
 * A PPM is raw RGB behind a short text header, so reading it costs a file
 * read and no decompression.
 *
 * @module
 */
import type { RgbImage } from "./types.ts";

const encoder = new TextEncoder();

/**
 * Encodes an image as a binary PPM.
 *
 * @param image The image.
 * @returns The file bytes.
 */
export function encodePpm(image: RgbImage): Uint8Array {
  const header = encoder.encode(`P6\n${image.width} ${image.height}\n255\n`);
  const out = new Uint8Array(header.length + image.data.length);
  out.set(header, 0);
  out.set(image.data, header.length);
  return out;
}

/** A parsed PPM header. */
export interface PpmHeader {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Offset of the first pixel byte. */
  dataOffset: number;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Parses a P6 header at `offset`; returns null when more bytes are needed.
 *
 * @param bytes Buffer holding the header.
 * @param offset Where the header starts.
 * @returns The header, or null when incomplete.
 * @throws {SyntaxError} When the bytes are not an 8-bit P6 header.
 */
export function parsePpmHeader(
  bytes: Uint8Array,
  offset = 0,
): PpmHeader | null {
  const fields: number[] = [];
  let i = offset;
  if (bytes.length - offset < 2) return null;
  if (bytes[i] !== 0x50 || bytes[i + 1] !== 0x36) {
    throw new SyntaxError("Cannot parse frame: not a binary PPM (P6)");
  }
  i += 2;
  while (fields.length < 3) {
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (i < bytes.length && bytes[i] === 0x23) { // comment
      while (i < bytes.length && bytes[i] !== 0x0a) i++;
      continue;
    }
    let value = 0;
    let digits = 0;
    while (i < bytes.length && bytes[i] >= 0x30 && bytes[i] <= 0x39) {
      value = value * 10 + bytes[i] - 0x30;
      digits++;
      i++;
    }
    if (i >= bytes.length) return null;
    if (digits === 0) {
      throw new SyntaxError("Cannot parse frame: malformed PPM header");
    }
    fields.push(value);
  }
  if (i >= bytes.length) return null;
  if (fields[2] !== 255) {
    throw new SyntaxError(
      `Cannot parse frame: PPM max value must be 255: current value is ${
        fields[2]
      }`,
    );
  }
  return { width: fields[0], height: fields[1], dataOffset: i + 1 };
}

/**
 * Decodes a whole binary PPM file.
 *
 * @param bytes File bytes.
 * @returns The image (its data is a view into `bytes`).
 * @throws {SyntaxError} When the file is not a complete 8-bit P6.
 */
export function decodePpm(bytes: Uint8Array): RgbImage {
  const h = parsePpmHeader(bytes);
  const size = h ? h.width * h.height * 3 : 0;
  if (!h || bytes.length - h.dataOffset < size) {
    throw new SyntaxError("Cannot parse frame: truncated PPM");
  }
  return {
    width: h.width,
    height: h.height,
    data: bytes.subarray(h.dataOffset, h.dataOffset + size),
  };
}
