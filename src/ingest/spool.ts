/**
 * The local spool: clips on removable media are copied to a local folder
 * before they are processed, so pulling the USB stick mid-run loses nothing.
 * The copy is written to a temporary file, fsynced, checked against the hash
 * of the bytes read and renamed to `<sha256><.ext>`; the original is only
 * ever opened for reading.
 *
 * Permissions: `--allow-read` for the inbox and the spool folder,
 * `--allow-write` for the spool folder, `--allow-sys=statfs` for the free
 * space (or `--allow-run=df` for the fallback).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { statfs } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { makeDataDir, openDataFile, writeAll } from "../shared/mod.ts";

/** Mount-point prefixes taken as removable media by default. */
export const DEFAULT_REMOVABLE_PREFIXES: readonly string[] = [
  "/media",
  "/run/media",
  "/mnt",
];

/** Temporary spool files are named `.spool-<uuid>.tmp`. */
const TEMP_PREFIX = ".spool-";
const TEMP_SUFFIX = ".tmp";
const CHUNK_BYTES = 1 << 20;
const MIB = 1024 * 1024;

/**
 * Returns true when `path` lies under one of `prefixes`, matched on whole
 * path segments (`/media` matches `/media/usb/a.mp4`, not `/mediafiles/a.mp4`).
 *
 * @example
 * ```ts
 * import { isRemovablePath } from "./spool.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isRemovablePath("/media/usb0/DCIM/a.mp4", ["/media"]), true);
 * assert.equal(isRemovablePath("/mediafiles/a.mp4", ["/media"]), false);
 * ```
 * @param path A file path (made absolute first).
 * @param prefixes Folder prefixes of removable media.
 * @returns Whether the file is on removable media.
 */
export function isRemovablePath(
  path: string,
  prefixes: readonly string[],
): boolean {
  const abs = resolve(path);
  return prefixes.some((prefix) => {
    const p = resolve(prefix);
    return p === "/" || abs === p || abs.startsWith(p + "/");
  });
}

/**
 * Reads the byte count from `df -B1 --output=avail` output.
 *
 * @example
 * ```ts
 * import { parseDfAvail } from "./spool.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDfAvail("      Avail\n84649906176\n"), 84649906176);
 * ```
 * @param stdout The command's output.
 * @returns Available bytes.
 * @throws {SyntaxError} When the output has no number.
 */
export function parseDfAvail(stdout: string): number {
  const lines = stdout.trim().split("\n");
  const value = lines[lines.length - 1]?.trim() ?? "";
  if (!/^\d+$/.test(value)) {
    throw new SyntaxError(
      `Cannot read free space from df: unexpected output ${
        JSON.stringify(stdout)
      }`,
    );
  }
  return Number(value);
}

/** Options for {@linkcode freeSpaceBytes}. */
export interface FreeSpaceOptions {
  /**
   * `statfs` (node:fs, needs `--allow-sys=statfs`), `df` (needs
   * `--allow-run=df`) or `auto` (statfs, then df when statfs fails).
   * @default {"auto"}
   */
  method?: "auto" | "statfs" | "df";
}

/**
 * Bytes available to an unprivileged user on the filesystem holding `dir`.
 * Deno has no `Deno.statfs`; node:fs `statfs` works in Deno 2.
 *
 * @param dir A folder on the filesystem.
 * @param options Which method to use.
 * @returns Available bytes.
 * @throws {Error} When no method works, naming the folder.
 */
export async function freeSpaceBytes(
  dir: string,
  options: FreeSpaceOptions = {},
): Promise<number> {
  const { method = "auto" } = options;
  let statfsError: unknown = null;
  if (method !== "df") {
    try {
      const st = await statfs(dir);
      return st.bavail * st.bsize;
    } catch (err) {
      if (method === "statfs") {
        throw new Error(
          `Cannot read free space of ${dir}: ${(err as Error).message}`,
        );
      }
      statfsError = err;
    }
  }
  try {
    const out = await new Deno.Command("df", {
      args: ["-B1", "--output=avail", "--", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(new TextDecoder().decode(out.stderr).trim());
    }
    return parseDfAvail(new TextDecoder().decode(out.stdout));
  } catch (err) {
    const first = statfsError ? `${(statfsError as Error).message}; ` : "";
    throw new Error(
      `Cannot read free space of ${dir}: ${first}df: ${(err as Error).message}`,
    );
  }
}

/** Options for {@linkcode spoolClip}. */
export interface SpoolClipOptions {
  /** Local folder for spooled copies (created when missing). */
  spoolDir: string;
  /** Whether the clip is on removable media; other clips stay in place. */
  removable: boolean;
  /**
   * Free bytes that must remain in the spool folder's filesystem after the
   * copy; under it the clip is not spooled. @default {0}
   */
  minFreeBytes?: number;
  /** Free-space probe (tests pass their own). @default {freeSpaceBytes} */
  freeSpace?: (dir: string) => Promise<number>;
  /** Aborts the copy; the temporary file is removed. */
  signal?: AbortSignal;
}

/** Result of {@linkcode spoolClip}. */
export type SpoolResult =
  | {
    /** The clip is on local storage: process it where it is. */
    kind: "in_place";
    /** The clip's path. */
    path: string;
  }
  | {
    /** The clip was copied (or an identical copy was already there). */
    kind: "spooled";
    /** Path of the spooled copy: `<spoolDir>/<sha256><.ext>`. */
    path: string;
    /** Hex sha256 of the content. */
    sha256: string;
    /** Bytes copied. */
    size: number;
    /** True when the same content was already spooled (nothing copied). */
    reused: boolean;
  }
  | {
    /** Not spooled now (low disk space); try again later. */
    kind: "refused";
    /** One line saying why, naming the folder and the numbers. */
    reason: string;
    /** Free bytes measured. */
    freeBytes: number;
  };

/**
 * Copies a clip on removable media to the local spool folder (temporary
 * file, fsync, hash check, rename to `<sha256><.ext>`, folder fsync). Clips
 * not on removable media are returned as they are. The original is never
 * written to. The copy keeps the original's mtime (the start-time fallback).
 *
 * @param path The clip.
 * @param options Spool folder, whether the clip is removable, free-space floor.
 * @returns Where to process the clip from, or why it was not spooled.
 * @throws {Error} When the clip cannot be read or changes while it is
 * copied (message names the clip); the spool is left without a partial file.
 */
export async function spoolClip(
  path: string,
  options: SpoolClipOptions,
): Promise<SpoolResult> {
  const {
    spoolDir,
    removable,
    minFreeBytes = 0,
    freeSpace = (dir: string) => freeSpaceBytes(dir),
    signal,
  } = options;
  signal?.throwIfAborted();
  if (!removable) return { kind: "in_place", path };
  const before = await Deno.lstat(path).catch((err) => {
    throw new Error(`Cannot spool clip ${path}: ${(err as Error).message}`);
  });
  if (before.isSymlink || !before.isFile) {
    throw new Error(`Cannot spool clip ${path}: not a regular file`);
  }
  await makeDataDir(spoolDir);
  const free = await freeSpace(spoolDir);
  if (free - before.size < minFreeBytes) {
    return {
      kind: "refused",
      reason: `Cannot spool clip as free space in ${spoolDir} would fall ` +
        `under the minimum: ${mib(free)} MiB free, clip is ` +
        `${mib(before.size)} MiB, minimum is ${mib(minFreeBytes)} MiB`,
      freeBytes: free,
    };
  }
  const temp = join(
    spoolDir,
    `${TEMP_PREFIX}${crypto.randomUUID()}${TEMP_SUFFIX}`,
  );
  try {
    const { sha256, size } = await copyHashed(path, temp, {
      expectSize: before.size,
      expectMtime: before.mtime,
      signal,
    });
    const copyHash = await hashFile(temp, signal);
    if (copyHash !== sha256) {
      throw new Error(
        `Cannot spool clip ${path}: the copy's hash ${copyHash} differs from the bytes read (${sha256})`,
      );
    }
    const final = join(spoolDir, sha256 + extname(path).toLowerCase());
    const existing = await Deno.lstat(final).catch(() => null);
    if (existing?.isFile && existing.size === size) {
      await Deno.remove(temp);
      return { kind: "spooled", path: final, sha256, size, reused: true };
    }
    await Deno.rename(temp, final);
    await syncDir(spoolDir);
    return { kind: "spooled", path: final, sha256, size, reused: false };
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    if (
      !signal?.aborted && !isNoSpace(err) &&
      !(err as Error).message?.includes(path)
    ) {
      // Writes and fsyncs on an open file name no path: name both ends.
      const message = (err as Error).message?.split("\n")[0];
      throw new Error(
        `Cannot spool clip ${path} to ${spoolDir}: ${message}`,
        { cause: err },
      );
    }
    if (isNoSpace(err)) {
      const freeNow = await freeSpace(spoolDir).catch(() => 0);
      return {
        kind: "refused",
        reason: `Cannot spool clip as ${spoolDir} is full: ${
          mib(freeNow)
        } MiB free, clip is ${mib(before.size)} MiB`,
        freeBytes: freeNow,
      };
    }
    throw err;
  }
}

/**
 * Removes temporary files a crash or power cut left in the spool folder.
 * Call it at start-up, before any spooling.
 *
 * @param spoolDir The spool folder (a missing one is fine).
 * @returns How many files were removed.
 */
export async function removeSpoolTemps(spoolDir: string): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(spoolDir)) {
      if (
        entry.isFile && entry.name.startsWith(TEMP_PREFIX) &&
        entry.name.endsWith(TEMP_SUFFIX)
      ) {
        await Deno.remove(join(spoolDir, entry.name));
        removed++;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return removed;
}

interface CopyOptions {
  expectSize: number;
  expectMtime: Date | null;
  signal: AbortSignal | undefined;
}

/** Copies `src` to a new file `dest`, hashing the bytes read; fsyncs. */
async function copyHashed(
  src: string,
  dest: string,
  options: CopyOptions,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  {
    using input = await Deno.open(src, { read: true }).catch((err) => {
      throw new Error(`Cannot spool clip ${src}: ${(err as Error).message}`);
    });
    using output = await openDataFile(dest, { createNew: true });
    const buf = new Uint8Array(CHUNK_BYTES);
    while (true) {
      options.signal?.throwIfAborted();
      const n = await input.read(buf).catch((err) => {
        throw new Error(
          `Cannot spool clip ${src}: read failed (drive pulled?): ${
            (err as Error).message
          }`,
        );
      });
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      await writeAll(output, chunk);
      size += n;
    }
    const after = await input.stat();
    if (
      size !== options.expectSize || after.size !== options.expectSize ||
      after.mtime?.getTime() !== options.expectMtime?.getTime()
    ) {
      throw new Error(
        `Cannot spool clip ${src}: it changed while it was copied (${options.expectSize} bytes before, ${size} read)`,
      );
    }
    if (options.expectMtime) {
      await Deno.utime(dest, new Date(), options.expectMtime);
    }
    await output.sync();
  }
  return { sha256: hash.digest("hex"), size };
}

async function hashFile(
  path: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(CHUNK_BYTES);
  while (true) {
    signal?.throwIfAborted();
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** fsyncs a folder so a rename in it survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  using handle = await Deno.open(dir, { read: true });
  await handle.sync();
}

function isNoSpace(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "ENOSPC" || /os error 28\b/.test(e?.message ?? "");
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}
