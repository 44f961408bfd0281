/**
 * Decodes a clip into sampled frames with Debian's ffmpeg (a subprocess).
 * Frames are read off ffmpeg's stdout as a PPM stream, so the consumer's pace
 * is ffmpeg's pace: a paused consumer pauses decoding (back-pressure).
 *
 * @module
 */
import { decodeArgs } from "./ffmpeg_args.ts";
import { parsePpmHeader } from "./ppm.ts";
import { BadClipError } from "./probe.ts";

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
  /** Stops decoding (ffmpeg is killed). */
  signal?: AbortSignal;
}

/**
 * Splits a byte stream of concatenated PPM images into whole images,
 * carrying leftover bytes between chunks. Pure apart from its buffer.
 */
export class PpmStreamSplitter {
  #buf = new Uint8Array(0);

  /**
   * Adds bytes and returns the complete images they finish.
   *
   * @param chunk Bytes from the stream.
   * @returns Complete PPM files, in order.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf, 0);
    merged.set(chunk, this.#buf.length);
    const out: Uint8Array[] = [];
    let offset = 0;
    while (true) {
      const h = parsePpmHeader(merged, offset);
      if (!h) break;
      const end = h.dataOffset + h.width * h.height * 3;
      if (end > merged.length) break;
      out.push(merged.slice(offset, end));
      offset = end;
    }
    this.#buf = merged.slice(offset);
    return out;
  }

  /** Bytes held that do not make a whole image yet. */
  get pending(): number {
    return this.#buf.length;
  }
}

/**
 * Decodes `path` at `fps`, yielding frames in order.
 *
 * @param path The clip.
 * @param options Sampling rate and cancellation.
 * @returns The frames.
 * @throws {BadClipError} When ffmpeg cannot decode the clip.
 */
export async function* decodeFrames(
  path: string,
  options: DecodeFramesOptions,
): AsyncGenerator<DecodedFrame> {
  const child = new Deno.Command("ffmpeg", {
    args: decodeArgs(path, { fps: options.fps }),
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
  const splitter = new PpmStreamSplitter();
  let index = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout) {
      for (const ppm of splitter.push(chunk)) {
        const h = parsePpmHeader(ppm)!;
        yield { index: index++, width: h.width, height: h.height, ppm };
      }
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
