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
}

/**
 * Arguments for ffmpeg to decode a clip into a stream of PPM images sampled
 * at `fps`: frame n is the picture shown at time n / fps. Each PPM carries
 * its own width and height, so rotated clips need no special case. Pixels are
 * always 8-bit RGB (`-pix_fmt rgb24`): a 10-bit clip (HEVC Main 10, H.264
 * High 10) would otherwise come out as 16-bit PPM (maxval 65535).
 *
 * @param path The clip.
 * @param options Sampling rate.
 * @returns The argument list.
 */
export function decodeArgs(path: string, options: DecodeArgsOptions): string[] {
  const { fps, streamIndex } = options;
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
  return [
    "-nostdin",
    "-hide_banner",
    "-loglevel",
    "error",
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
