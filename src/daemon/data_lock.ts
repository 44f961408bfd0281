/**
 * The data-dir lock: an exclusive `flock` on `DATA_DIR/dashcam.lock` that
 * holds the owner's PID. `run`, `process` and `read` take it FIRST, before
 * any spool clean-up, outbox migration or database open, so a second
 * process on the same data dir changes nothing (issue 9 item 10).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { DATA_NAMES, openDataFile, sleep } from "../shared/mod.ts";

/** Name of the lock file in the data dir. */
export const LOCK_FILE: string = DATA_NAMES.lock;

/** The data dir is locked by another process. */
export class DataDirBusyError extends Error {
  /** The data dir. */
  readonly dataDir: string;
  /** PID of the holder, when the lock file says. */
  readonly pid: number | null;

  /**
   * Creates the error.
   *
   * @param dataDir The data dir.
   * @param pid The holder's PID, or null when unknown.
   */
  constructor(dataDir: string, pid: number | null) {
    super(
      `data dir ${dataDir} is in use by PID ${
        pid ?? "unknown"
      }: stop that process or use another --data-dir`,
    );
    this.name = "DataDirBusyError";
    this.dataDir = dataDir;
    this.pid = pid;
  }
}

/** Options for {@linkcode lockDataDir}. */
export interface LockDataDirOptions {
  /** Milliseconds to keep trying while another process holds the lock (a restart's overlap). @default {2000} */
  waitMs?: number;
  /** Milliseconds between tries. @default {100} */
  retryMs?: number;
}

/** A held data-dir lock; `release()` (or process exit) frees it. */
export interface DataDirLock {
  /** The lock file. */
  readonly path: string;
  /** Frees the lock (idempotent). */
  release(): void;
}

/**
 * Takes the data dir's exclusive lock and writes this PID into the lock
 * file. The data dir must exist (create it with `makeDataDir`).
 *
 * @example Take the lock before touching anything
 * ```ts ignore
 * const lock = await lockDataDir(config.data_dir);
 * try { ... } finally { lock.release(); }
 * ```
 * @param dataDir The data dir.
 * @param options How long to keep trying.
 * @returns The held lock.
 * @throws {DataDirBusyError} When another process holds it after `waitMs`.
 */
export async function lockDataDir(
  dataDir: string,
  options: LockDataDirOptions = {},
): Promise<DataDirLock> {
  const { waitMs = 2000, retryMs = 100 } = options;
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  let file: Deno.FsFile;
  try {
    file = await openDataFile(path);
  } catch (err) {
    throw new Error(
      `Cannot use data_dir ${dir}: cannot open ${path}: ${
        (err as Error).message
      }`,
      { cause: err },
    );
  }
  const deadline = Date.now() + waitMs;
  // tryLock, never lock(): a pending blocking flock would keep this process
  // alive until the other one exits.
  while (!(await file.tryLock(true))) {
    if (Date.now() >= deadline) {
      file.close();
      throw new DataDirBusyError(dir, await readPid(path));
    }
    await sleep(retryMs);
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      file.close();
    },
  };
}

async function readPid(path: string): Promise<number | null> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}
