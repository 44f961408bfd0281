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
