/**
 * Downloads one file over HTTP(S) into place, verified: retries with
 * exponential backoff, resumes a partial download with an HTTP `Range`
 * request, and checks size and sha256 before the file is renamed into place.
 * Until then the bytes live in `<target>.part`, which is kept after a network
 * failure (so a re-run resumes) and deleted after a bad checksum or a write
 * error (e.g. disk full). Proxies: Deno's `fetch` honours `HTTPS_PROXY`,
 * `HTTP_PROXY` and `NO_PROXY` itself.
 *
 * @module
 */
import {
  retry,
  sha256File,
  sleep as sharedSleep,
  writeAll,
} from "../shared/mod.ts";

/** The prefix that `--mirror` replaces. */
export const UPSTREAM_PREFIX = "https://github.com";

/** Progress of one download. */
export interface DownloadProgress {
  /** Bytes in the `.part` file so far. */
  done: number;
  /** Expected size in bytes. */
  total: number;
}

/** Options for {@linkcode downloadVerified}. */
export interface DownloadOptions {
  /** Expected lower-case hex sha256 of the whole file. */
  sha256: string;
  /** Expected size in bytes. */
  bytes: number;
  /** Attempts after the first one, for network errors and HTTP 408/429/5xx. @default {4} */
  retries?: number;
  /** Wait before the first retry, doubled for each next one, in ms. @default {1000} */
  backoffMs?: number;
  /** Waits; injectable for tests. @default {setTimeout} */
  sleep?: (ms: number) => Promise<void>;
  /** Called as bytes arrive. */
  onProgress?: (progress: DownloadProgress) => void;
}

/** A download that failed; `retryable` when a re-run may succeed (network). */
export class DownloadError extends Error {
  /** Whether the failure was the network's (the `.part` file is kept). */
  readonly retryable: boolean;
  /**
   * @param message One line.
   * @param retryable Whether a retry may help.
   */
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = "DownloadError";
    this.retryable = retryable;
  }
}

/**
 * Replaces the `https://github.com` prefix of a URL with a mirror's base URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mirrorUrl } from "./model_download.ts";
 * assert.equal(
 *   mirrorUrl("https://github.com/o/r/raw/c/f.onnx", "http://10.0.0.1:8080/gh/"),
 *   "http://10.0.0.1:8080/gh/o/r/raw/c/f.onnx",
 * );
 * ```
 * @param url An upstream URL.
 * @param base The mirror's base URL, or undefined for none.
 * @returns The URL to fetch.
 */
export function mirrorUrl(url: string, base: string | undefined): string {
  if (!base || !url.startsWith(`${UPSTREAM_PREFIX}/`)) return url;
  return base.replace(/\/+$/, "") + url.slice(UPSTREAM_PREFIX.length);
}

/** One line for an error; a `fetch failed` TypeError gets its cause (DNS, refused, TLS...). */
function firstLine(error: unknown): string {
  let text = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && cause.message) {
    // "error sending request for url (...): client error (Connect): tcp connect error: Connection refused (os error 111)"
    const detail = cause.message.replace(
      /^error sending request for url \([^)]*\): /,
      "",
    );
    text = `${text}: ${detail}`;
  }
  return text.split("\n")[0] ?? text;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/** Bytes the server will send from, per its status and Content-Range; undefined when unusable. */
function startOf(response: Response, asked: number): number | undefined {
  if (response.status === 200) return 0;
  if (response.status !== 206) return undefined;
  const range = response.headers.get("content-range") ?? "";
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(range.trim());
  return match && Number(match[1]) === asked ? asked : undefined;
}

/**
 * One attempt: asks for the bytes after what `.part` holds and appends them.
 * Throws a retryable DownloadError for network trouble.
 */
async function attempt(
  url: string,
  part: string,
  options: DownloadOptions,
): Promise<void> {
  const have = await sizeOf(part);
  if (have === options.bytes) return;
  if (have > options.bytes) await Deno.remove(part);
  const from = have > options.bytes ? 0 : have;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: from > 0 ? { range: `bytes=${from}-` } : {},
    });
  } catch (error) {
    throw new DownloadError(firstLine(error), true);
  }
  if (response.status === 416) {
    await response.body?.cancel();
    await Deno.remove(part).catch(() => {});
    throw new DownloadError("HTTP 416 (range not satisfiable)", true);
  }
  if (!response.ok) {
    await response.body?.cancel();
    const retryable = response.status === 408 || response.status === 429 ||
      response.status >= 500;
    throw new DownloadError(
      `HTTP ${response.status} ${response.statusText}`.trim(),
      retryable,
    );
  }
  const start = startOf(response, from);
  if (start === undefined) {
    await response.body?.cancel();
    await Deno.remove(part).catch(() => {});
    throw new DownloadError("server sent an unexpected range", true);
  }
  const file = await Deno.open(part, {
    write: true,
    create: true,
    truncate: start === 0,
    append: start !== 0,
    mode: 0o644,
  });
  let done = start;
  try {
    if (response.body === null) throw new DownloadError("empty body", true);
    const reader = response.body.getReader();
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new DownloadError(firstLine(error), true);
      }
      if (chunk.done) break;
      await writeAll(file, chunk.value);
      done += chunk.value.byteLength;
      if (done > options.bytes) {
        throw new DownloadError(
          `server sent more than ${options.bytes} bytes`,
          false,
        );
      }
      options.onProgress?.({ done, total: options.bytes });
    }
    await file.sync();
  } finally {
    file.close();
  }
  if (done !== options.bytes) {
    throw new DownloadError(
      `connection closed after ${done} of ${options.bytes} bytes`,
      true,
    );
  }
}

/**
 * Downloads `url` to `target`, verified. The file appears at `target` only
 * when its size and sha256 match; an existing `target` is never touched
 * before that.
 *
 * @example Download a model
 * ```ts ignore
 * await downloadVerified(entry.url, "/var/lib/dashcam/models/x.onnx", { sha256: entry.sha256, bytes: entry.bytes });
 * ```
 * @param url What to fetch (`http:` or `https:`).
 * @param target Where the file goes.
 * @param options Expected sha256 and size; retries; progress callback.
 * @throws {DownloadError} One line (no URL: the caller names it): the HTTP
 * status, the network error after the last retry (`.part` kept for a
 * resume), the size or sha256 mismatch (`.part` deleted), or a write error
 * such as `No space left on device` (`.part` deleted).
 */
export async function downloadVerified(
  url: string,
  target: string,
  options: DownloadOptions,
): Promise<void> {
  const {
    retries = 4,
    backoffMs = 1000,
    sleep = async (ms: number) => {
      await sharedSleep(ms);
    },
  } = options;
  const part = `${target}.part`;
  try {
    await retry(() => attempt(url, part, options), {
      attempts: retries + 1,
      firstMs: backoffMs,
      maxMs: Number.MAX_SAFE_INTEGER, // the retries bound the wait
      isRetryable: (e) => e instanceof DownloadError && e.retryable,
      clock: {
        now: () => Date.now(),
        sleep: async (ms) => {
          await sleep(ms);
          return true;
        },
      },
    });
  } catch (error) {
    if (error instanceof DownloadError) {
      if (!error.retryable) await Deno.remove(part).catch(() => {});
      throw error;
    }
    // Not the network's: a write error (disk full, read-only) or similar.
    await Deno.remove(part).catch(() => {});
    throw new DownloadError(firstLine(error), false);
  }
  const actual = await sha256File(part);
  if (actual !== options.sha256) {
    await Deno.remove(part).catch(() => {});
    throw new DownloadError(
      `sha256 ${actual}, expected ${options.sha256}; the download was deleted`,
      false,
    );
  }
  await Deno.rename(part, target);
}
