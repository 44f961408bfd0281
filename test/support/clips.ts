/**
 * Test clips made with ffmpeg on the spot (no binary fixtures in the repo).
 *
 * @module
 */
import { join } from "node:path";

/** Options for {@linkcode makeTestClip}. */
export interface MakeTestClipOptions {
  /** Seconds. @default {3} */
  durationS?: number;
  /** Frame size. @default {"320x240"} */
  size?: string;
  /** lavfi source. @default {"testsrc"} */
  source?: string;
}

/**
 * Makes an H.264 MP4 with ffmpeg's test pattern.
 *
 * @param dir Folder to write to.
 * @param name File name.
 * @param options Duration, size and source.
 * @returns The clip path.
 */
export async function makeTestClip(
  dir: string,
  name: string,
  options: MakeTestClipOptions = {},
): Promise<string> {
  const { durationS = 3, size = "320x240", source = "testsrc" } = options;
  const path = join(dir, name);
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-nostdin",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      `${source}=duration=${durationS}:size=${size}:rate=25`,
      "-pix_fmt",
      "yuv420p",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-y",
      path,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`ffmpeg failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return path;
}

/**
 * Runs ffmpeg quietly (`-nostdin -loglevel error -y` before `args`).
 *
 * @param args ffmpeg arguments: inputs, filters, the output file.
 * @throws {Error} With ffmpeg's stderr when it fails.
 */
export async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-loglevel", "error", "-y", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`ffmpeg failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
