/**
 * ffmpeg and ffprobe argument lists. Pure, so they are tested alone.
 *
 * @module
 */

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
    "--",
    path,
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
    path,
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

/**
 * Arguments for ffmpeg to decode one still image into raw RGB.
 *
 * @param path The image.
 * @returns The argument list.
 */
export function imageArgs(path: string): string[] {
  return [
    "-nostdin",
    "-hide_banner",
    "-loglevel",
    "error",
    "-i",
    path,
    "-frames:v",
    "1",
    "-f",
    "image2pipe",
    "-c:v",
    "ppm",
    "pipe:1",
  ];
}
