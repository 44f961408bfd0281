/**
 * The one migration runner of the SQLite files (`pipeline.db`, `outbox.db`):
 * numbered migrations, each applied in its own transaction (safe when two
 * processes open the file at once: the check and the change commit
 * together). Where the applied versions are recorded is the file's own,
 * kept as it was for files already on vehicles:
 *
 * - `user_version`: `PRAGMA user_version` holds the highest version applied
 *   (`pipeline.db`, whose seed schema has no room for a ledger table);
 * - `schema_migrations`: a table `(version, name, applied_at)` with one row
 *   per migration (`outbox.db`).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "./sqlite.ts";

/** One numbered migration of a SQLite file. */
export interface SqliteMigration {
  /** Version number, 1-based and dense. */
  version: number;
  /** Short name. */
  name: string;
  /** SQL run in one transaction. */
  sql: string;
}

/** Where a file records the migrations applied (see the module doc). */
export type MigrationLedger = "user_version" | "schema_migrations";

/** Options for {@linkcode migrateSqlite}. */
export interface MigrateSqliteOptions {
  /** Where the applied versions are recorded. */
  ledger: MigrationLedger;
  /** Clock for `applied_at`. @default {() => new Date()} */
  now?: () => Date;
}

/**
 * Applies the migrations not yet applied, in order, one transaction each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * const db = new DatabaseSync(":memory:");
 * const steps = [
 *   { version: 1, name: "t", sql: "CREATE TABLE t (a INTEGER)" },
 *   { version: 2, name: "t_b", sql: "ALTER TABLE t ADD COLUMN b TEXT" },
 * ];
 * assert.deepEqual(migrateSqlite(db, steps.slice(0, 1), { ledger: "user_version" }), [1]);
 * assert.deepEqual(migrateSqlite(db, steps, { ledger: "user_version" }), [2]);
 * assert.deepEqual(migrateSqlite(db, steps, { ledger: "user_version" }), []);
 * ```
 * @param db The open database (writable).
 * @param migrations The file's migrations, in order of version.
 * @param options The ledger.
 * @returns The versions applied now.
 * @throws {Error} When the versions are not 1, 2, 3… in order (a
 * programming error), or a migration's SQL fails (nothing of it is kept).
 */
export function migrateSqlite(
  db: DatabaseSync,
  migrations: readonly SqliteMigration[],
  options: MigrateSqliteOptions,
): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== migrations[0].version + i) {
      throw new Error(
        `Cannot migrate: migration versions must be dense and in order (${m.name} has ${m.version} after ${
          migrations[i - 1]?.version
        })`,
      );
    }
  });
  const now = options.now ?? (() => new Date());
  const ledger = options.ledger === "user_version"
    ? userVersionLedger(db)
    : tableLedger(db, now);
  const applied: number[] = [];
  for (const m of migrations) {
    transaction(db, () => {
      if (ledger.has(m.version)) return;
      db.exec(m.sql);
      ledger.record(m);
      applied.push(m.version);
    });
  }
  return applied;
}

interface Ledger {
  has(version: number): boolean;
  record(m: SqliteMigration): void;
}

function userVersionLedger(db: DatabaseSync): Ledger {
  return {
    has(version) {
      const row = db.prepare("PRAGMA user_version").get() as {
        user_version: number;
      };
      return row.user_version >= version;
    },
    record(m) {
      db.exec(`PRAGMA user_version = ${Math.trunc(m.version)}`);
    },
  };
}

function tableLedger(db: DatabaseSync, now: () => Date): Ledger {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  return {
    has(version) {
      return db.prepare(
        "SELECT 1 AS one FROM schema_migrations WHERE version = ?",
      ).get(version) !== undefined;
    },
    record(m) {
      db.prepare(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
      ).run(m.version, m.name, now().toISOString());
    },
  };
}
