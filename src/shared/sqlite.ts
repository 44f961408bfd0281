/**
 * The one SQLite helper both databases (`pipeline.db`, `outbox.db`) share.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on a throw.
 *
 * @param db The database.
 * @param fn The work; its return value is returned.
 * @returns What `fn` returned.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Opens a SQLite file for reading only, never creating or changing a file
 * (`readOnly: true`: a missing file is an error, not a new database).
 *
 * A WAL database can be read without write access to its folder only while
 * its `-wal` and `-shm` files exist (the writer is running, or crashed), or
 * when it is not in WAL mode: {@linkcode closeForReaders} leaves it in
 * rollback mode at a writer's clean close. Otherwise SQLite cannot create the
 * `-shm` file and the read fails (`SQLITE_READONLY_CANTINIT`); the error then
 * says what to do. Source: https://www.sqlite.org/wal.html#readonly
 *
 * @param path The database file.
 * @returns The open, read-only database.
 * @throws {Error} One line naming the file when it cannot be read.
 */
export function openSqliteReadOnly(path: string): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.prepare("SELECT count(*) FROM sqlite_schema").get();
    return db;
  } catch (err) {
    db?.close();
    const message = (err as Error).message.split("\n")[0];
    const cantInit = /readonly database|unable to open/.test(message);
    throw new Error(
      `Cannot read ${path}: ${message}${
        cantInit
          ? " (a WAL database needs its -shm file, which this user may not create: run this as the daemon's user, or stop and start the daemon once so it leaves the file readable)"
          : ""
      }`,
      { cause: err },
    );
  }
}

/**
 * Before a writer closes: switches a WAL database back to rollback mode
 * (`journal_mode = DELETE`, which checkpoints and removes `-wal` and `-shm`),
 * so a reader without write access to the folder can open it read-only.
 * Does nothing when another connection still has the file open (it fails at
 * once: busy timeout 0) or the connection is read-only. The next writer's
 * `journal_mode = WAL` switches it back.
 *
 * @param db The database, about to be closed.
 */
export function closeForReaders(db: DatabaseSync): void {
  if (!db.isOpen) return;
  try {
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA journal_mode = DELETE");
  } catch {
    // Still in use, or read-only: stays as it is.
  }
}
