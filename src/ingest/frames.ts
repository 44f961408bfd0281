/**
 * Decodes a clip into sampled frames with Debian's ffmpeg (a subprocess).
 * Frames are read off ffmpeg's stdout as a PPM stream, so the consumer's pace
 * is ffmpeg's pace: a paused consumer pauses decoding (back-pressure).
 *
 * @module
 */
import { decodeArgs } from "./ffmpeg_args.ts";
import { BadClipError, probeClip } from "./probe.ts";
import { childEnv } from "./child_env.ts";
import { byobSource, PpmFrameReader } from "./ppm_stream.ts";

/** One sampled frame. */
export interface DecodedFrame {
  /** Sampled frame index (time = index / fps). */
  index: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The whole PPM file (header + RGB), ready to write to disk. */
  ppm: Uint8Array;
}

/** Options for {@linkcode decodeFrames}. */
export interface DecodeFramesOptions {
  /** Frames sampled per second. */
  fps: number;
  /**
   * Absolute index of the video stream to decode, from
   * {@linkcode probeClip}'s `streamIndex`. @default {the probe's choice, run here}
   */
  streamIndex?: number;
  /** Decoder threads (see {@linkcode decodeArgs}). @default {0: ffmpeg's choice} */
  threads?: number;
  /**
   * Reads every frame into the same buffer when its size allows: each
   * yielded `ppm` is then valid only until the next frame is asked for
   * (copy it to keep it); see {@linkcode PpmFrameReader}. @default {false}
   */
  reuseBuffer?: boolean;
  /** Stops decoding (ffmpeg is killed). */
  signal?: AbortSignal;
}

/**
 * Decodes `path` at `fps`, yielding frames in order: the video stream the
 * probe chooses (not a thumbnail track), as 8-bit RGB whatever the clip's
 * pixel format.
 *
 * @param path The clip.
 * @param options Sampling rate and cancellation.
 * @returns The frames.
 * @throws {BadClipError} When ffprobe or ffmpeg cannot read the clip.
 */
export async function* decodeFrames(
  path: string,
  options: DecodeFramesOptions,
): AsyncGenerator<DecodedFrame> {
  const streamIndex = options.streamIndex ??
    (await probeClip(path)).streamIndex;
  const child = new Deno.Command("ffmpeg", {
    args: decodeArgs(path, {
      fps: options.fps,
      streamIndex,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    }),
    clearEnv: true,
    env: childEnv(),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const onAbort = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const reader = new PpmFrameReader(byobSource(child.stdout), {
    reuseBuffer: options.reuseBuffer,
  });
  let index = 0;
  let finished = false;
  try {
    for (let img = await reader.next(); img; img = await reader.next()) {
      yield { index: index++, ...img };
    }
    finished = true;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (!finished) onAbort();
    const status = await child.status;
    const err = await stderrText;
    if (finished && !options.signal?.aborted) {
      if (!status.success && index === 0) {
        const line = err.trim().split("\n").pop() ?? "ffmpeg failed";
        // deno-lint-ignore no-unsafe-finally
        throw new BadClipError(path, line.replace(/^.*?: /, ""));
      }
      if (index === 0) {
        // deno-lint-ignore no-unsafe-finally
        throw new BadClipError(path, "no frames could be decoded");
      }
    }
  }
}
