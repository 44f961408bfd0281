/**
 * Opening a SQLite file of the data dir without ever replacing a damaged one
 * silently: a file that exists is never re-created. A damaged file (zero
 * bytes, not a database, a bad header, failing `PRAGMA quick_check`, or
 * holding no tables) is either reported ({@linkcode DamagedDatabaseError})
 * or set aside under a new name with its `-wal`/`-shm` and a fresh one made,
 * as the caller chooses. Every error names the file.
 *
 * Source of the rules: issue 9 item 5 ("a damaged outbox is silently
 * replaced"); header layout from https://sqlite.org/fileformat.html §1.3.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { createDataFileSync, restrictDataFile } from "./data_fs.ts";

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_MAGIC = "SQLite format 3\0";
/** SQLite primary result codes that mean "this file is damaged". */
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** A database file that exists but cannot be used as a database. */
export class DamagedDatabaseError extends Error {
  /** The file. */
  readonly path: string;
  /** What is wrong with it (one line). */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param path The file.
   * @param reason What is wrong with it.
   * @param label What the file is, e.g. "outbox".
   */
  constructor(path: string, reason: string, label = "database") {
    super(`The ${label} ${path} is damaged: ${reason}`);
    this.name = "DamagedDatabaseError";
    this.path = path;
    this.reason = reason;
  }
}

/** Options for {@linkcode openDatabaseFile}. */
export interface OpenDatabaseFileOptions {
  /** What the file is, for messages ("outbox", "task database"). @default {"database"} */
  label?: string;
  /** Open read-only (never creates, never changes the file). @default {false} */
  readOnly?: boolean;
  /** Create the file when it is absent. @default {true unless readOnly} */
  create?: boolean;
  /** On damage: rename the file (and its -wal/-shm) aside and create a fresh one, instead of throwing. @default {false} */
  setAside?: boolean;
  /** Run `PRAGMA quick_check` on an existing file (O(size): skip it where the owner already did). @default {true} */
  check?: boolean;
  /** Milliseconds SQLite waits on a lock (set before the checks) before SQLITE_BUSY. @default {5000} */
  busyTimeoutMs?: number;
  /** Clock for the set-aside name. @default {() => new Date()} */
  now?: () => Date;
}

/** What {@linkcode openDatabaseFile} opened. */
export interface OpenedDatabase {
  /** The open database. */
  db: DatabaseSync;
  /** True when the file did not exist and was created now. */
  created: boolean;
  /** When the file was damaged and set aside: the error and where it went. */
  damaged: { error: DamagedDatabaseError; asidePath: string } | null;
}

/**
 * What is wrong with an existing database file before SQLite opens it
 * (zero bytes without a WAL, shorter than a header, wrong magic), or null
 * when it looks like a database. A missing file gives "absent".
 *
 * @param path The file.
 * @returns "absent", a one-line reason, or null.
 */
export function inspectDatabaseFile(path: string): "absent" | string | null {
  let size: number;
  try {
    const st = Deno.statSync(path);
    if (!st.isFile) return "not a regular file";
    size = st.size;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "absent";
    throw new Error(
      `Cannot read database file ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (size === 0) {
    // In WAL mode a new database can live wholly in its -wal for a while.
    const wal = fileSize(`${path}-wal`);
    return wal > 0 ? null : "the file is empty (zero bytes) and has no -wal";
  }
  if (size < 100) return `the file is too short for a database (${size} bytes)`;
  const head = new Uint8Array(16);
  const file = Deno.openSync(path, { read: true });
  try {
    file.readSync(head);
  } finally {
    file.close();
  }
  if (new TextDecoder().decode(head) !== SQLITE_MAGIC) {
    return "not an SQLite database (bad header)";
  }
  return null;
}

/**
 * Renames a damaged database aside as `PATH.damaged-<UTC stamp>`, with its
 * `-wal` and `-shm` renamed alongside (so SQLite still pairs them). Nothing
 * is deleted.
 *
 * @param path The damaged file.
 * @param now The time for the stamp.
 * @returns The new path of the main file.
 */
export function setAsideDatabase(path: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let aside = `${path}.damaged-${stamp}`;
  for (let n = 1; exists(aside); n++) {
    aside = `${path}.damaged-${stamp}-${n}`;
  }
  for (const suffix of ["-wal", "-shm"]) {
    if (exists(path + suffix)) Deno.renameSync(path + suffix, aside + suffix);
  }
  if (exists(path)) Deno.renameSync(path, aside);
  return aside;
}

/**
 * Opens a database file of the data dir: creates it (mode 0640) only when
 * absent, and checks an existing one (header, `PRAGMA quick_check`, at least
 * one table) before anyone writes to it.
 *
 * @example Open the outbox, setting a damaged one aside
 * ```ts ignore
 * const { db, damaged } = openDatabaseFile(path, { label: "outbox", setAside: true });
 * if (damaged) log.error(`${damaged.error.message}; kept as ${damaged.asidePath}`);
 * ```
 * @param path The file.
 * @param options Label, read-only, create and set-aside switches.
 * @returns The open database and what happened.
 * @throws {DamagedDatabaseError} When the file is damaged and `setAside` is off.
 * @throws {Deno.errors.NotFound} When the file is absent and `create` is off.
 * @throws {Error} Any other failure to open, naming the file.
 */
export function openDatabaseFile(
  path: string,
  options: OpenDatabaseFileOptions = {},
): OpenedDatabase {
  const {
    label = "database",
    readOnly = false,
    create = !readOnly,
    setAside = false,
    check = true,
    busyTimeoutMs = 5000,
    now = () => new Date(),
  } = options;
  const damage = (reason: string) =>
    new DamagedDatabaseError(path, reason, label);
  const handle = (error: DamagedDatabaseError): OpenedDatabase => {
    if (!setAside || readOnly) throw error;
    const asidePath = setAsideDatabase(path, now());
    const db = openChecked(path, {
      label,
      readOnly,
      fresh: true,
      busyTimeoutMs,
    });
    return { db, created: true, damaged: { error, asidePath } };
  };
  const found = inspectDatabaseFile(path);
  if (found === "absent") {
    if (!create || readOnly) {
      throw new Deno.errors.NotFound(
        `Cannot open the ${label} ${path}: no such file`,
      );
    }
    return {
      db: openChecked(path, { label, readOnly, fresh: true, busyTimeoutMs }),
      created: true,
      damaged: null,
    };
  }
  if (found !== null) return handle(damage(found));
  try {
    return {
      db: openChecked(path, { label, readOnly, fresh: !check, busyTimeoutMs }),
      created: false,
      damaged: null,
    };
  } catch (err) {
    if (err instanceof DamagedDatabaseError) return handle(err);
    throw err;
  }
}

interface OpenCheckedOptions {
  label: string;
  readOnly: boolean;
  fresh: boolean;
  busyTimeoutMs: number;
}

function openChecked(path: string, options: OpenCheckedOptions): DatabaseSync {
  const { label, readOnly, fresh, busyTimeoutMs } = options;
  let db: DatabaseSync | null = null;
  try {
    if (fresh && !readOnly && !exists(path)) {
      // Created here with its mode: SQLite would make it 0644 first.
      createDataFileSync(path);
    }
    db = new DatabaseSync(path, { readOnly });
    // Another process may be recovering the WAL or writing: wait, as every
    // later statement does.
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    if (!readOnly) {
      // Before the first write: SQLite gives -wal/-shm the database's mode.
      for (const suffix of ["", "-wal", "-shm"]) {
        if (exists(path + suffix)) restrictDataFile(path + suffix);
      }
    }
    if (!fresh) {
      const rows = db.prepare("PRAGMA quick_check").all() as Array<
        { quick_check: string }
      >;
      const problems = rows.map((r) => r.quick_check).filter((r) => r !== "ok");
      if (problems.length > 0) {
        throw new DamagedDatabaseError(
          path,
          `quick_check failed: ${problems.slice(0, 3).join("; ")}`,
          label,
        );
      }
      const tables = db.prepare(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'",
      ).get() as { n: number };
      if (tables.n === 0) {
        throw new DamagedDatabaseError(path, "it holds no tables", label);
      }
    }
    return db;
  } catch (err) {
    if (db?.isOpen) db.close();
    if (err instanceof DamagedDatabaseError) throw err;
    const code = (err as { errcode?: number }).errcode;
    const message = (err as Error).message;
    if (
      code !== undefined &&
      [SQLITE_CORRUPT, SQLITE_NOTADB].includes(code & 0xff)
    ) {
      throw new DamagedDatabaseError(path, message, label);
    }
    // A WAL database read without write access to its folder needs its
    // -shm file (https://www.sqlite.org/wal.html#readonly).
    const hint = readOnly && /readonly database|unable to open/.test(message)
      ? " (a WAL database needs its -shm file, which this user may not create: run this as the daemon's user, or stop and start the daemon once so it leaves the file readable)"
      : "";
    throw new Error(`Cannot open the ${label} ${path}: ${message}${hint}`, {
      cause: err,
    });
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}
