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
 * Arguments for ffprobe to describe a clip as JSON.
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
    "v:0",
    fileUrl(path),
  ];
}

/** Options for {@linkcode decodeArgs}. */
export interface DecodeArgsOptions {
  /** Frames sampled per second of video. */
  fps: number;
  /** Skip this many sampled frames from the start (resume). @default {0} */
  startFrame?: number;
}

/**
 * Arguments for ffmpeg to decode a clip into a stream of PPM images sampled
 * at `fps`: frame n is the picture shown at time n / fps. Each PPM carries
 * its own width and height, so rotated clips need no special case.
 *
 * @param path The clip.
 * @param options Sampling rate.
 * @returns The argument list.
 */
export function decodeArgs(path: string, options: DecodeArgsOptions): string[] {
  const { fps } = options;
  if (!(fps > 0)) {
    throw new RangeError(
      `Cannot decode as 'fps' must be > 0: current value is ${fps}`,
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
    "0:v:0",
    "-an",
    "-sn",
    "-vf",
    `fps=${fps}`,
    "-f",
    "image2pipe",
    "-c:v",
    "ppm",
    "pipe:1",
  ];
}
