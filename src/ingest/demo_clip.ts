/**
 * The demo clip for `dashcam demo`: one small public clip, pinned by URL,
 * size and sha256, downloaded once into the data dir's cache.
 *
 * @module
 */
import { join } from "node:path";
import { sha256File } from "../shared/mod.ts";

/** A pinned download. */
export interface PinnedFile {
  /** Upstream URL (GitHub, at a fixed commit). */
  url: string;
  /** sha256 of the bytes the URL serves, lower-case hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** File name in the cache. */
  file: string;
  /** Licence of the file, as its source states it. */
  licence: string;
}

/**
 * The demo clip: a static camera at a UK roundabout, 4.67 s, 1280x720, one
 * readable plate (`LS15EBC`). From `theAIGuysCode/yolov4-custom-functions`
 * at commit 8f2c922a, `data/video/license_plate.mp4`; that repository is MIT
 * licensed (its LICENSE file). The clip's sha256 is the one listed for
 * `clips/uk_roundabout_approach.mp4` in the developer media set's README.
 */
export const DEMO_CLIP: PinnedFile = {
  url:
    "https://github.com/theAIGuysCode/yolov4-custom-functions/raw/8f2c922a54d9ee0878efd3dffa42ce6e7bd3ae34/data/video/license_plate.mp4",
  sha256: "edb00b79d8ff2107bb4b0774bd69eb9112c2abe47172dc5f57fef4415df176b9",
  bytes: 2_378_325,
  file: "demo_license_plate.mp4",
  licence:
    "MIT (LICENSE of github.com/theAIGuysCode/yolov4-custom-functions, which publishes the clip)",
};

const GITHUB = "https://github.com";

/**
 * Replaces the `https://github.com` prefix of `url` with a mirror's base
 * URL (fleets that host their own copy, tests on loopback).
 *
 * @param url Upstream URL.
 * @param base Mirror base such as `http://mirror.fleet.example/github`; undefined or empty = none.
 * @returns The URL to download.
 * @throws {TypeError} When `url` is not on github.com but a mirror is given.
 */
export function mirrorUrl(url: string, base?: string): string {
  if (base === undefined || base === "") return url;
  if (!url.startsWith(`${GITHUB}/`)) {
    throw new TypeError(`Cannot mirror ${url}: it is not on ${GITHUB}`);
  }
  return base.replace(/\/+$/, "") + url.slice(GITHUB.length);
}

/** Options for {@linkcode fetchPinned}. */
export interface FetchPinnedOptions {
  /** Cache folder (created when absent), normally `DATA_DIR/cache`. */
  cacheDir: string;
  /** Mirror base replacing `https://github.com` (see {@linkcode mirrorUrl}). */
  mirror?: string;
}

async function cachedOk(path: string, pin: PinnedFile): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.size === pin.bytes && await sha256File(path) === pin.sha256;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Returns the cached copy of a pinned file, downloading it first when the
 * cache lacks it or holds a wrong copy. The download goes to a `.part` file
 * that is renamed into place only after its size and sha256 match; a
 * mismatch deletes it.
 *
 * @param pin The pinned file.
 * @param options Cache folder and mirror.
 * @returns Path of the verified file in the cache.
 * @throws {Error} One line naming the URL: network error, HTTP status, or wrong size/sha256.
 */
export async function fetchPinned(
  pin: PinnedFile,
  options: FetchPinnedOptions,
): Promise<string> {
  const target = join(options.cacheDir, pin.file);
  if (await cachedOk(target, pin)) return target;
  const url = mirrorUrl(pin.url, options.mirror);
  await Deno.mkdir(options.cacheDir, { recursive: true });
  const part = `${target}.part`;
  try {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new Error(
        `Cannot download ${url}: ${(err as Error).message.split("\n")[0]}`,
      );
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new Error(
        `Cannot download ${url}: HTTP ${response.status} ${response.statusText}`,
      );
    }
    const file = await Deno.open(part, {
      write: true,
      create: true,
      truncate: true,
    });
    try {
      await response.body.pipeTo(file.writable);
    } catch (err) {
      throw new Error(
        `Cannot download ${url}: ${(err as Error).message.split("\n")[0]}`,
      );
    }
    const size = (await Deno.stat(part)).size;
    const sha = await sha256File(part);
    if (size !== pin.bytes || sha !== pin.sha256) {
      throw new Error(
        `Cannot use ${url}: got ${size} bytes with sha256 ${sha}, expected ${pin.bytes} bytes with sha256 ${pin.sha256} (deleted)`,
      );
    }
    await Deno.rename(part, target);
    return target;
  } finally {
    await Deno.remove(part).catch(() => {});
  }
}
