/**
 * The one SQLite helper both databases (`pipeline.db`, `outbox.db`) share.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

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
