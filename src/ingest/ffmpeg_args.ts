/**
 * ffmpeg and ffprobe argument lists. Pure, so they are tested alone.
 *
 * @module
 */

/**
 * A path as ffmpeg's `file:` input, so names with a colon (`12:00:00.mp4`)
 * or a leading dash are never taken for a protocol or an option.
 *
 * @param path The clip.
 * @returns `file:` plus the path.
 */
export function fileUrl(path: string): string {
  return `file:${path}`;
}

/**
 * Arguments for ffprobe to describe a clip as JSON: the format and every
 * video stream, so the recording can be told from a thumbnail track.
 *
 * @param path The clip.
 * @returns The argument list.
 */
export function probeArgs(path: string): string[] {
  return [
    "-v",
    "error",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    "-select_streams",
    "v",
    fileUrl(path),
  ];
}

/** Options for {@linkcode decodeArgs}. */
export interface DecodeArgsOptions {
  /** Frames sampled per second of video. */
  fps: number;
  /** Absolute index of the video stream to decode (from the probe). */
  streamIndex: number;
  /**
   * Decoder threads (`-threads`); 0 lets ffmpeg choose (one per core).
   * @default {0}
   */
  threads?: number;
}

/**
 * Arguments for ffmpeg to decode a clip into a stream of PPM images sampled
 * at `fps`: frame n is the picture shown at time n / fps. Each PPM carries
 * its own width and height, so rotated clips need no special case. Pixels are
 * always 8-bit RGB (`-pix_fmt rgb24`): a 10-bit clip (HEVC Main 10, H.264
 * High 10) would otherwise come out as 16-bit PPM (maxval 65535).
 *
 * @param path The clip.
 * @param options Sampling rate, stream, decoder threads.
 * @returns The argument list.
 */
export function decodeArgs(path: string, options: DecodeArgsOptions): string[] {
  const { fps, streamIndex, threads = 0 } = options;
  if (!(fps > 0)) {
    throw new RangeError(
      `Cannot decode as 'fps' must be > 0: current value is ${fps}`,
    );
  }
  if (!Number.isInteger(streamIndex) || streamIndex < 0) {
    throw new RangeError(
      `Cannot decode as 'streamIndex' must be an integer >= 0: current value is ${streamIndex}`,
    );
  }
  if (!Number.isInteger(threads) || threads < 0) {
    throw new RangeError(
      `Cannot decode as 'threads' must be an integer >= 0: current value is ${threads}`,
    );
  }
  return [
    "-nostdin",
    "-hide_banner",
    "-loglevel",
    "error",
    "-threads",
    String(threads),
    "-i",
    fileUrl(path),
    "-map",
    `0:${streamIndex}`,
    "-an",
    "-sn",
    "-dn",
    "-vf",
    `fps=${fps}`,
    "-pix_fmt",
    "rgb24",
    "-f",
    "image2pipe",
    "-c:v",
    "ppm",
    "pipe:1",
  ];
}

/** Options for {@linkcode decodeThreads}. */
export interface DecodeThreadsOptions {
  /** CPU cores of the machine (`navigator.hardwareConcurrency`). */
  cores: number;
}

/**
 * The decoder threads for a `decode_threads` setting: the setting itself,
 * or for null half the cores, at least 1. Inference runs beside decoding:
 * on 2 cores, ffmpeg's default of one thread per core spent 25 % more CPU
 * on the same frames of the media clips (frame threading) than 1 thread,
 * CPU the stage workers then lacked.
 *
 * @param setting The config value (0 = ffmpeg's choice).
 * @param options The machine's cores.
 * @returns The `-threads` value.
 */
export function decodeThreads(
  setting: number | null,
  options: DecodeThreadsOptions,
): number {
  if (setting !== null) return setting;
  return Math.max(1, Math.floor(options.cores / 2));
}
