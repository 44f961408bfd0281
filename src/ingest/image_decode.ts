/**
 * Decodes a JPEG or PNG still into 8-bit RGB, in-process with sharp (libvips)
 * or, where sharp cannot load or cannot decode the file, with an ffmpeg
 * subprocess. The file type is told from its first bytes, not its name (some
 * ".jpg" files are PNGs). Grayscale, 16-bit, palette and alpha images all
 * come out as 8-bit RGB; alpha is dropped.
 *
 * sharp needs `--allow-read --allow-ffi --allow-env`; ffmpeg needs
 * `--allow-run=ffmpeg`.
 *
 * @module
 */
import type { RgbImage } from "../shared/mod.ts";
import { decodePpm } from "../shared/mod.ts";
import { childEnv } from "./child_env.ts";

/** Still-image formats {@linkcode decodeImageFile} accepts. */
export type ImageFormat = "jpeg" | "png";

/**
 * Decoders {@linkcode decodeImageFile} can use: `sharp` (libvips in-process,
 * about 5 ms for a 1080p JPEG), `ffmpeg` (one subprocess per image, about
 * 65 ms), or `auto`: sharp, and ffmpeg when sharp cannot load on this
 * machine or cannot decode the file (lossless and 12-bit JPEGs).
 */
export type ImageDecoder = "auto" | "sharp" | "ffmpeg";

/** The values of {@linkcode ImageDecoder}. */
export const IMAGE_DECODERS: readonly ImageDecoder[] = [
  "auto",
  "sharp",
  "ffmpeg",
];

/** Width, height and format read from an image file's header. */
export interface ImageHeader {
  /** Container format. */
  format: ImageFormat;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16 for PNG, 8 or 12 for JPEG. */
  bitDepth: number;
  /** Whether the image has one colour channel (grayscale, with or without alpha). */
  gray: boolean;
}

/** Options for {@linkcode decodeImageFile}. */
export interface DecodeImageFileOptions {
  /** Largest `width * height` accepted; larger images are refused before decoding. @default {40_000_000} */
  maxPixels?: number;
  /**
   * Cancels the decode (the ffmpeg process is killed; a sharp decode, which
   * cannot be stopped, is dropped when it ends). @default {no cancellation}
   */
  signal?: AbortSignal;
  /** ffmpeg executable. @default {"ffmpeg"} */
  ffmpegPath?: string;
  /** Decoder to use; see {@linkcode ImageDecoder}. @default {"auto"} */
  decoder?: ImageDecoder;
  /**
   * Receives one line, once per thread or worker, when `auto` cannot load
   * sharp and decodes with ffmpeg instead. @default {no logging}
   */
  log?: (msg: string) => void;
}

const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * Reads a JPEG's or PNG's format and size from its first bytes. Pure.
 *
 * @example A PNG header
 * ```ts
 * import { readImageHeader } from "./image_decode.ts";
 * import assert from "node:assert/strict";
 * const png = new Uint8Array(26);
 * png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
 * png.set([0, 0, 5, 0, 0, 0, 2, 208], 16);
 * png.set([8, 2], 24); // 8-bit RGB
 * assert.deepEqual(readImageHeader(png), { format: "png", width: 1280, height: 720, bitDepth: 8, gray: false });
 * ```
 * @param bytes The file's bytes (the whole file, or at least its headers).
 * @returns The header.
 * @throws {SyntaxError} When the bytes are not a JPEG or PNG, or the header is
 * cut short.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (isPng(bytes)) return readPngHeader(bytes);
  if (
    bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff
  ) {
    return readJpegHeader(bytes);
  }
  throw new SyntaxError("not a JPEG or PNG image");
}

function isPng(bytes: Uint8Array): boolean {
  const magic = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return bytes.length >= 8 && magic.every((b, i) => bytes[i] === b);
}

function u16(bytes: Uint8Array, i: number): number {
  return (bytes[i] << 8) | bytes[i + 1];
}

function u32(bytes: Uint8Array, i: number): number {
  return ((bytes[i] << 24) >>> 0) + (bytes[i + 1] << 16) + (bytes[i + 2] << 8) +
    bytes[i + 3];
}

function readPngHeader(bytes: Uint8Array): ImageHeader {
  // Signature, then the IHDR chunk: length, "IHDR", width, height.
  const ihdr = bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 &&
    bytes[15] === 0x52;
  if (bytes.length < 26 || !ihdr) {
    throw new SyntaxError("PNG header is cut short or has no IHDR chunk");
  }
  // Colour types 0 (gray) and 4 (gray + alpha) have one colour channel.
  const colorType = bytes[25];
  return {
    format: "png",
    width: u32(bytes, 16),
    height: u32(bytes, 20),
    bitDepth: bytes[24],
    gray: colorType === 0 || colorType === 4,
  };
}

/** SOFn markers (C0..CF except DHT C4, JPG C8, DAC CC) carry the frame size. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
    marker !== 0xc8 && marker !== 0xcc;
}

function readJpegHeader(bytes: Uint8Array): ImageHeader {
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) {
      throw new SyntaxError(`JPEG marker expected at byte ${i}`);
    }
    const marker = bytes[i + 1];
    if (marker === 0xff) { // fill byte
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image, start of scan
    const length = u16(bytes, i + 2);
    if (isStartOfFrame(marker)) {
      if (i + 10 > bytes.length) break;
      return {
        format: "jpeg",
        height: u16(bytes, i + 5),
        width: u16(bytes, i + 7),
        bitDepth: bytes[i + 4],
        gray: bytes[i + 9] === 1,
      };
    }
    i += 2 + length;
  }
  throw new SyntaxError("JPEG has no frame header (SOF) before its image data");
}

/**
 * Tells whether a file's bytes end the way a complete image ends: a JPEG's
 * end-of-image marker after its last scan, a PNG's IEND chunk. A file still
 * being written fails this. Pure.
 *
 * @example A JPEG cut short
 * ```ts
 * import { isCompleteImage } from "./image_decode.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isCompleteImage(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2]), "jpeg"), false);
 * ```
 * @param bytes The whole file.
 * @param format Its format, from {@linkcode readImageHeader}.
 * @returns Whether the end marker is present.
 */
export function isCompleteImage(
  bytes: Uint8Array,
  format: ImageFormat,
): boolean {
  if (format === "png") {
    // IEND is the last chunk; allow a little trailing junk after its CRC.
    const tail = bytes.subarray(Math.max(8, bytes.length - 4096));
    for (let i = tail.length - 4; i >= 0; i--) {
      if (
        tail[i] === 0x49 && tail[i + 1] === 0x45 && tail[i + 2] === 0x4e &&
        tail[i + 3] === 0x44
      ) {
        return true;
      }
    }
    return false;
  }
  // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart
  // marker, so an FF D9 after the last FF DA is the end of the last scan.
  let lastScan = -1;
  let lastEnd = -1;
  for (let i = 2; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    const next = bytes[i + 1];
    if (next === 0xda) lastScan = i;
    else if (next === 0xd9) lastEnd = i;
  }
  return lastScan > 0 && lastEnd > lastScan;
}

/**
 * ffmpeg arguments that read one JPEG or PNG from stdin and write it to
 * stdout as an 8-bit RGB binary PPM. Pure.
 *
 * @example A JPEG
 * ```ts
 * import { imageDecodeArgs } from "./image_decode.ts";
 * import assert from "node:assert/strict";
 * const args = imageDecodeArgs({ format: "jpeg", width: 2, height: 2, bitDepth: 8, gray: false });
 * assert.deepEqual(args.slice(3, 7), ["-f", "jpeg_pipe", "-i", "pipe:0"]);
 * ```
 * @param header The image's header: its format picks the demuxer (no
 * probing).
 * @returns The argument list.
 */
export function imageDecodeArgs(header: ImageHeader): string[] {
  // swscale turns 16-bit gray straight into RGB one level too bright
  // (0xC8C8 -> 0xC9); going through 8-bit gray is exact.
  const filter = header.format === "png" && header.gray &&
      header.bitDepth === 16
    ? ["-vf", "format=gray"]
    : [];
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-f",
    header.format === "png" ? "png_pipe" : "jpeg_pipe",
    "-i",
    "pipe:0",
    "-frames:v",
    "1",
    ...filter,
    "-f",
    "image2pipe",
    "-c:v",
    "ppm",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ];
}

/**
 * Decodes a JPEG or PNG file into 8-bit RGB. The file is read once, checked
 * (format from its first bytes, size against `maxPixels`, end marker
 * present) and decoded by sharp, or by one ffmpeg process (see
 * {@linkcode ImageDecoder}).
 *
 * Median cost on a 2-core x86-64, sharp / ffmpeg: 1280x720 JPEG 3 / 54 ms,
 * 1920x1080 JPEG 5 / 67 ms (about 40 ms of ffmpeg's is starting up),
 * 1280x720 PNG 8 / 74 ms, 1920x1080 PNG 16 / 111 ms.
 *
 * The decoders' pixels differ a little. JPEG: 4:4:4 within 3 levels;
 * 4:2:0 mean difference under 1 level, up to about 40 on sharp colour edges
 * (libjpeg's chroma upsampling, which lands closer to the original).
 * 16-bit PNG: sharp keeps each sample's high byte, ffmpeg's swscale puts
 * some samples one level off. Other PNGs decode identically.
 *
 * @example Decode a still
 * ```ts ignore
 * const image = await decodeImageFile("/data/in/photo.jpg");
 * console.log(image.width, image.height, image.data.length);
 * ```
 * @param path The image file.
 * @param options Pixel limit, cancellation, decoder, ffmpeg executable and a
 * log callback.
 * @returns The image; `data.buffer` holds exactly its pixels (it can be
 * transferred to a worker as is).
 * @throws {Error} One line naming the file when it is missing, not a JPEG or
 * PNG, cut short, too large, or cannot be decoded.
 */
export async function decodeImageFile(
  path: string,
  options: DecodeImageFileOptions = {},
): Promise<RgbImage> {
  const {
    maxPixels = DEFAULT_MAX_PIXELS,
    signal,
    ffmpegPath = "ffmpeg",
    decoder = "auto",
    log,
  } = options;
  if (!(maxPixels >= 1)) {
    throw new RangeError(
      `Cannot decode image as 'maxPixels' must be >= 1: current value is ${maxPixels}`,
    );
  }
  if (!IMAGE_DECODERS.includes(decoder)) {
    throw new RangeError(
      `Cannot decode image as 'decoder' must be auto, sharp or ffmpeg: current value is ${
        String(decoder)
      }`,
    );
  }
  signal?.throwIfAborted();
  const fail = (why: string) =>
    new Error(`Cannot decode image ${path}: ${why}`);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path, { signal });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw fail("file not found");
    if (signal?.aborted) throw error;
    throw fail(firstLine(error));
  }
  let header: ImageHeader;
  try {
    header = readImageHeader(bytes);
  } catch (error) {
    throw fail(firstLine(error));
  }
  if (header.width < 1 || header.height < 1) {
    throw fail(`image size is ${header.width}x${header.height}`);
  }
  if (header.width * header.height > maxPixels) {
    throw fail(
      `${header.width}x${header.height} is more than maxPixels ${maxPixels}`,
    );
  }
  if (!isCompleteImage(bytes, header.format)) {
    throw fail(`the ${header.format.toUpperCase()} file is cut short`);
  }

  if (decoder !== "ffmpeg") {
    const loaded = await loadSharp();
    if (loaded.sharp === undefined) {
      if (decoder === "sharp") {
        throw fail(`sharp cannot load: ${loaded.reason}`);
      }
      if (log !== undefined && !sharpFallbackLogged) {
        sharpFallbackLogged = true;
        log(
          `sharp cannot load (${loaded.reason}): decoding images with ffmpeg instead (about 60 ms more per image)`,
        );
      }
    } else {
      let image: RgbImage | undefined;
      try {
        image = await decodeWithSharp(loaded.sharp, bytes);
      } catch (error) {
        // `auto` goes on to ffmpeg, which decodes some files libvips
        // refuses (lossless JPEG, 12-bit JPEG); if ffmpeg fails too, its
        // message is the one reported.
        if (decoder === "sharp") {
          throw fail(`sharp failed: ${firstLine(error)}`);
        }
      }
      signal?.throwIfAborted();
      if (image !== undefined) return image;
    }
  }
  return await decodeWithFfmpeg(bytes, header, { ffmpegPath, signal, fail });
}

/** The sharp function, or why it could not be loaded. */
interface SharpLoad {
  sharp?: SharpFn;
  reason: string;
}

type SharpFn = typeof import("sharp").default;

let sharpLoad: Promise<SharpLoad> | undefined;
let sharpFallbackLogged = false;

/** Imports sharp once per thread or worker. */
function loadSharp(): Promise<SharpLoad> {
  sharpLoad ??= importSharp();
  return sharpLoad;
}

async function importSharp(): Promise<SharpLoad> {
  try {
    const module = await import("sharp");
    // libvips' operation cache would keep recent images' pixels alive; each
    // still is decoded once.
    module.default.cache(false);
    return { sharp: module.default, reason: "" };
  } catch (error) {
    return { reason: sharpLoadError(error) };
  }
}

/**
 * sharp's load error in one line: its summary and the causes it lists
 * (such as a missing --allow-ffi), without its "Possible solutions" advice.
 */
function sharpLoadError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((line) => line.trim());
  const end = lines.indexOf("Possible solutions:");
  return lines.slice(0, end === -1 ? 1 : end).filter((line) => line !== "")
    .join("; ");
}

/** Decodes with sharp: alpha dropped, gray and palette to sRGB, 8 bits. */
async function decodeWithSharp(
  sharp: SharpFn,
  bytes: Uint8Array,
): Promise<RgbImage> {
  const { data, info } = await sharp(bytes, {
    // Stop at decode errors, not at warnings such as "corrupt JPEG data"
    // (ffmpeg conceals those too); cut-short files are refused earlier.
    failOn: "error",
    // The size was checked against maxPixels from the header.
    limitInputPixels: false,
    sequentialRead: true,
    autoOrient: false,
  })
    .removeAlpha()
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const length = info.width * info.height * 3;
  if (info.channels !== 3 || data.length !== length) {
    throw new Error(
      `unexpected output: ${info.channels} channels, ${data.length} bytes`,
    );
  }
  // sharp's buffer is normally exactly the pixels: keep it without copying.
  const pixels = data.byteOffset === 0 && data.buffer.byteLength === length
    ? new Uint8Array(data.buffer, 0, length)
    : new Uint8Array(data);
  return { width: info.width, height: info.height, data: pixels };
}

/** What {@linkcode decodeWithFfmpeg} needs besides the image. */
interface FfmpegDecodeOptions {
  ffmpegPath: string;
  signal?: AbortSignal;
  fail: (why: string) => Error;
}

async function decodeWithFfmpeg(
  bytes: Uint8Array,
  header: ImageHeader,
  options: FfmpegDecodeOptions,
): Promise<RgbImage> {
  const { ffmpegPath, signal, fail } = options;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(ffmpegPath, {
      args: imageDecodeArgs(header),
      clearEnv: true,
      env: childEnv(),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
  } catch (error) {
    throw fail(`cannot run ${ffmpegPath}: ${firstLine(error)}`);
  }
  // Feed stdin while output() drains stdout and stderr; a write error only
  // means ffmpeg stopped early, and its stderr says why.
  const writer = child.stdin.getWriter();
  const written = writer.write(bytes).then(() => writer.close()).catch(
    () => {},
  );
  const output = await child.output();
  await written;
  if (signal?.aborted) signal.throwIfAborted();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    throw fail(
      `ffmpeg failed: ${ffmpegError(stderr) || `exit code ${output.code}`}`,
    );
  }
  let image: RgbImage;
  try {
    image = decodePpm(output.stdout);
  } catch (error) {
    throw fail(`unexpected ffmpeg output: ${firstLine(error)}`);
  }
  // Copy so that `data.buffer` holds exactly the pixels and can be
  // transferred to a worker as is.
  return { width: image.width, height: image.height, data: image.data.slice() };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

/** ffmpeg's first error line, "[mjpeg @ 0x55...] msg" shortened to "mjpeg: msg". */
function ffmpegError(stderr: string): string {
  const line = stderr.split("\n").map((l) => l.trim()).find((l) => l !== "");
  return (line ?? "").replace(/^\[([\w-]+) @ 0x[0-9a-f]+\]\s*/, "$1: ");
}
