/**
 * Telling a passing file-system fault (the data disk remounted read-only, a
 * flaky SD card, a folder of ours removed, a full disk) from a fault of the
 * clip itself. The first pauses and retries; only the second fails a clip.
 * Pure.
 *
 * @module
 */

/**
 * Why a clip failed, stored in `video_metadata.error_kind`:
 * `clip` (its own file cannot be used: undecodable, gone before any frame),
 * `tasks` (a stage failed for good on it), `transient` (the file system or the
 * database failed for a while; the clip is taken up again on the next start).
 */
export type FailureKind = "clip" | "tasks" | "transient";

/**
 * errno codes of faults that pass (see errno(3)): read-only remount, I/O
 * error, refused access, busy or exhausted resources, a stale or lost mount,
 * a full disk. ENOENT and ENOTDIR count only for paths in the data dir.
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "EROFS",
  "EIO",
  "EAGAIN",
  "EWOULDBLOCK",
  "EBUSY",
  "EINTR",
  "ETIMEDOUT",
  "ENOTCONN",
  "ESTALE",
  "ENODEV",
  "ENXIO",
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  "ENOSPC",
  "EDQUOT",
]);

/** Linux errno numbers of the codes above, as in Rust's "(os error N)". */
const TRANSIENT_ERRNOS: ReadonlySet<number> = new Set([
  30, // EROFS
  5, // EIO
  11, // EAGAIN
  16, // EBUSY
  4, // EINTR
  110, // ETIMEDOUT
  107, // ENOTCONN
  116, // ESTALE
  19, // ENODEV
  6, // ENXIO
  24, // EMFILE
  23, // ENFILE
  12, // ENOMEM
  28, // ENOSPC
  122, // EDQUOT
]);

/** ENOENT, ENOTDIR, EACCES, EPERM: passing only inside the data dir. */
const DATA_DIR_CODES: ReadonlySet<string> = new Set([
  "ENOENT",
  "ENOTDIR",
  "EACCES",
  "EPERM",
]);
const DATA_DIR_ERRNOS: ReadonlySet<number> = new Set([2, 20, 13, 1]);

/** SQLite result texts of a database that cannot be written for a while. */
const SQLITE_TRANSIENT =
  /attempt to write a readonly database|disk I\/O error|database or disk is full|unable to open database file|SQLITE_(READONLY|IOERR|FULL|CANTOPEN)/i;

/** Options for {@linkcode isTransientFsError}. */
export interface TransientFsOptions {
  /**
   * The data dir (absolute): a missing file or folder under it (frames,
   * spool) is ours and passing; elsewhere it is about the clip.
   */
  dataDir: string;
}

/**
 * Whether an error is a passing file-system or database fault rather than
 * a fault of the clip. Looks at `code` (Deno and node:fs set it), then at
 * the "(os error N)" of the message, along the `cause` chain.
 *
 * @example
 * ```ts
 * import { isTransientFsError } from "./fs_fault.ts";
 * import assert from "node:assert/strict";
 * const rofs = Object.assign(new Error("Read-only file system (os error 30): writefile '/d/frames/a/1.ppm'"), { code: "EROFS" });
 * assert.equal(isTransientFsError(rofs, { dataDir: "/d" }), true);
 * assert.equal(isTransientFsError(new Error("moov atom not found"), { dataDir: "/d" }), false);
 * ```
 * @param err The error.
 * @param options The data dir.
 * @returns True when the operation should be paused and retried.
 */
export function isTransientFsError(
  err: unknown,
  options: TransientFsOptions,
): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const { code, message = "" } = e as { code?: string; message?: string };
    if (code && TRANSIENT_CODES.has(code)) return true;
    const errno = osErrno(message);
    if (errno !== null && TRANSIENT_ERRNOS.has(errno)) return true;
    if (SQLITE_TRANSIENT.test(message)) return true;
    if (
      (code && DATA_DIR_CODES.has(code)) ||
      (errno !== null && DATA_DIR_ERRNOS.has(errno))
    ) {
      const path = faultPath(e);
      if (path !== null && isUnder(path, options.dataDir)) return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether an error (or one of its causes) is a missing path (ENOENT,
 * ENOTDIR).
 *
 * @param err The error.
 * @returns True for a missing file or folder.
 */
export function isMissingPath(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const { code, message = "" } = e as { code?: string; message?: string };
    if (code && (code === "ENOENT" || code === "ENOTDIR")) return true;
    const errno = osErrno(message);
    if (errno === 2 || errno === 20) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The failure kind of an error message stored before kinds were recorded
 * (an older `pipeline.db`): the same rules as
 * {@linkcode isTransientFsError}, on the text alone.
 *
 * @example
 * ```ts
 * import { failureKindOfMessage } from "./fs_fault.ts";
 * import assert from "node:assert/strict";
 * assert.equal(failureKindOfMessage("Read-only file system (os error 30): mkdir '/d/frames/x'", { dataDir: "/d" }), "transient");
 * assert.equal(failureKindOfMessage('Cannot use clip "/in/a.mp4": moov atom not found', { dataDir: "/d" }), "clip");
 * ```
 * @param message The stored error.
 * @param options The data dir.
 * @returns `transient` or `clip` (`tasks` for "plate_smooth failed: …").
 */
export function failureKindOfMessage(
  message: string | null,
  options: TransientFsOptions,
): FailureKind {
  if (message === null) return "clip";
  if (message.startsWith("Cannot use clip ")) return "clip";
  if (isTransientFsError(new Error(message), options)) return "transient";
  if (message.startsWith("plate_smooth failed")) return "tasks";
  return "clip";
}

/**
 * The path an fs error names (`op 'path'` in Deno's messages, `path` on
 * node:fs errors), or null.
 *
 * @param err The error.
 * @returns The first path named.
 */
export function faultPath(err: unknown): string | null {
  const e = err as { path?: unknown; message?: string };
  if (typeof e?.path === "string") return e.path;
  const m = /'(\/[^']*)'/.exec(e?.message ?? "");
  return m ? m[1] : null;
}

function osErrno(message: string): number | null {
  const m = /\(os error (\d+)\)/.exec(message);
  return m ? Number(m[1]) : null;
}

function isUnder(path: string, dir: string): boolean {
  const d = dir.endsWith("/") ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(d + "/");
}

/**
 * Whether an error is the file system being full (ENOSPC or EDQUOT).
 *
 * @param err The error.
 * @returns True for a full disk.
 */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "ENOSPC" || e?.code === "EDQUOT" ||
    /No space left on device|Disk quota exceeded|os error 28\b/i.test(
      e?.message ?? "",
    );
}
