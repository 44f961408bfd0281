/**
 * Decodes a clip into sampled frames with Debian's ffmpeg (a subprocess).
 * Frames are read off ffmpeg's stdout as a PPM stream, so the consumer's pace
 * is ffmpeg's pace: a paused consumer pauses decoding (back-pressure).
 *
 * @module
 */
import { decodeArgs } from "./ffmpeg_args.ts";
import { parsePpmHeader } from "../shared/mod.ts";
import { BadClipError, probeClip } from "./probe.ts";
import { childEnv } from "./child_env.ts";

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
   * Gathers every frame into the same buffer when its size allows: each
   * yielded `ppm` is then valid only until the next frame is asked for
   * (copy it to keep it). A fresh 2.7 MB buffer per 720p frame costs 675
   * page faults when the allocator maps it anew, the largest cost of the
   * decoding thread in a profile of `process`. @default {false}
   */
  reuseBuffer?: boolean;
  /** Stops decoding (ffmpeg is killed). */
  signal?: AbortSignal;
}

/**
 * Splits a byte stream of concatenated PPM images into whole images,
 * carrying leftover bytes between chunks. Each byte is copied once: chunks
 * are kept as they come and joined only when an image is complete (a 720p
 * frame arrives in ~40 pipe chunks).
 */
export class PpmStreamSplitter {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #frameSize = -1; // header + pixels of the image being gathered, once known
  #spare: Uint8Array | null = null;

  /**
   * Gives back an image returned by {@linkcode push} that is no longer
   * used: the next image of the same size is gathered into it.
   *
   * @param image The image.
   */
  recycle(image: Uint8Array): void {
    if (image.byteOffset === 0 && image.length === image.buffer.byteLength) {
      this.#spare = image;
    }
  }

  /**
   * Adds bytes and returns the complete images they finish.
   *
   * @param chunk Bytes from the stream.
   * @returns Complete PPM files, in order.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    const out: Uint8Array[] = [];
    while (true) {
      if (this.#frameSize < 0) {
        const head = this.#peek(Math.min(this.#length, 64));
        const h = parsePpmHeader(head);
        if (!h) {
          if (this.#length >= 64) {
            throw new SyntaxError("Cannot parse frame: malformed PPM header");
          }
          break;
        }
        this.#frameSize = h.dataOffset + h.width * h.height * 3;
      }
      if (this.#length < this.#frameSize) break;
      out.push(this.#take(this.#frameSize));
      this.#frameSize = -1;
    }
    return out;
  }

  /** Copies the first `n` buffered bytes without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.#chunks) {
      if (o >= n) break;
      const part = c.subarray(0, n - o);
      out.set(part, o);
      o += part.length;
    }
    return out;
  }

  /** Removes and returns the first `n` buffered bytes as one array. */
  #take(n: number): Uint8Array {
    const out = this.#spare?.length === n ? this.#spare : new Uint8Array(n);
    this.#spare = null;
    let o = 0;
    while (o < n) {
      const c = this.#chunks[0];
      const need = n - o;
      if (c.length <= need) {
        out.set(c, o);
        o += c.length;
        this.#chunks.shift();
      } else {
        out.set(c.subarray(0, need), o);
        this.#chunks[0] = c.subarray(need);
        o += need;
      }
    }
    this.#length -= n;
    return out;
  }

  /** Bytes held that do not make a whole image yet. */
  get pending(): number {
    return this.#length;
  }
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
  const splitter = new PpmStreamSplitter();
  let index = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout) {
      for (const ppm of splitter.push(chunk)) {
        const h = parsePpmHeader(ppm)!;
        yield { index: index++, width: h.width, height: h.height, ppm };
        if (options.reuseBuffer) splitter.recycle(ppm);
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
