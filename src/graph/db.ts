/**
 * Opens `pipeline.db`: WAL, a busy timeout, and the migrations applied.
 * Only `graph/` opens this database.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { DATA_NAMES, migrateSqlite, transaction } from "../shared/mod.ts";
import {
  type DamagedDatabaseError,
  openDatabaseFile,
} from "../shared/sqlite_file.ts";
import { type Migration, MIGRATIONS } from "./migrations.ts";

export { transaction };

/** File name of the task-graph database inside the data dir. */
export const GRAPH_DB_FILE: string = DATA_NAMES.pipelineDb;

/** Options for {@linkcode openGraphDb}. */
export interface OpenGraphDbOptions {
  /** Apply pending migrations (only the process that owns the data dir does). @default {true} */
  migrate?: boolean;
  /** Milliseconds SQLite waits on a lock before SQLITE_BUSY. @default {5000} */
  busyTimeoutMs?: number;
  /** Open read-only (for `status`). @default {false} */
  readOnly?: boolean;
  /**
   * When given, a damaged file (see `openDatabaseFile`) is renamed aside as
   * `pipeline.db.damaged-<stamp>` and rebuilt empty (the clips are queued
   * again from the inbox), and this is called with what happened; without
   * it a damaged file throws `DamagedDatabaseError`.
   */
  onDamaged?: (
    damage: { error: DamagedDatabaseError; asidePath: string },
  ) => void;
}

/**
 * Applies the migrations newer than the database's `user_version` (the
 * one runner, `migrateSqlite` in shared/sqlite_migrate.ts).
 *
 * @param db The database.
 * @param migrations Migrations to apply, in order.
 * @returns The versions applied.
 */
export function migrate(
  db: DatabaseSync,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  return migrateSqlite(db, migrations, { ledger: "user_version" });
}

/**
 * Opens (creating when absent) the task-graph database. An existing file is
 * checked (header; `PRAGMA quick_check` when `migrate` is on) and never
 * written over.
 *
 * @param path File path of `pipeline.db`.
 * @param options Migration, busy timeout, read-only and damage switches.
 * @returns The open database.
 * @throws {DamagedDatabaseError} When the file is damaged and `onDamaged` is not given.
 */
export function openGraphDb(
  path: string,
  options: OpenGraphDbOptions = {},
): DatabaseSync {
  const {
    migrate: doMigrate = true,
    busyTimeoutMs = 5000,
    readOnly = false,
    onDamaged,
  } = options;
  const opened = openDatabaseFile(path, {
    label: "task database",
    readOnly,
    setAside: onDamaged !== undefined,
    check: doMigrate || readOnly,
    busyTimeoutMs,
  });
  const db = opened.db;
  if (opened.damaged) onDamaged?.(opened.damaged);
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  if (!readOnly) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    if (doMigrate) migrate(db);
  }
  return db;
}
