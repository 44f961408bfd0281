/**
 * Opens `pipeline.db`: WAL, a busy timeout, and the migrations applied.
 * Only `graph/` opens this database.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { openSqliteReadOnly, transaction } from "../shared/mod.ts";
import { type Migration, MIGRATIONS } from "./migrations.ts";

export { transaction };

/** Options for {@linkcode openGraphDb}. */
export interface OpenGraphDbOptions {
  /** Apply pending migrations (only the process that owns the data dir does). @default {true} */
  migrate?: boolean;
  /** Milliseconds SQLite waits on a lock before SQLITE_BUSY. @default {5000} */
  busyTimeoutMs?: number;
  /** Open read-only (for `status`). @default {false} */
  readOnly?: boolean;
}

/**
 * Applies the migrations newer than the database's `user_version`.
 *
 * @param db The database.
 * @param migrations Migrations to apply, in order.
 * @returns The versions applied.
 */
export function migrate(
  db: DatabaseSync,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const applied: number[] = [];
  for (const m of migrations) {
    transaction(db, () => {
      const row = db.prepare("PRAGMA user_version").get() as {
        user_version: number;
      };
      if (row.user_version >= m.version) return;
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      applied.push(m.version);
    });
  }
  return applied;
}

/**
 * Opens (creating if needed) the task-graph database.
 *
 * @param path File path of `pipeline.db`.
 * @param options Migration, busy timeout and read-only switches.
 * @returns The open database.
 */
export function openGraphDb(
  path: string,
  options: OpenGraphDbOptions = {},
): DatabaseSync {
  const { migrate: doMigrate = true, busyTimeoutMs = 5000, readOnly = false } =
    options;
  const db = readOnly
    ? openSqliteReadOnly(path)
    : new DatabaseSync(path, { readOnly });
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  if (!readOnly) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    if (doMigrate) migrate(db);
  }
  return db;
}
