/**
 * One prepared statement per SQL text and connection, kept for the life of
 * the connection.
 *
 * Why: every `DatabaseSync.prepare()` allocates a native `sqlite3_stmt` that
 * `node:sqlite` frees only when V8 collects the `StatementSync` wrapper (or
 * the connection closes). An idle daemon allocates little JS garbage, so V8
 * seldom collects, and a statement prepared on every poll grew the process
 * by about 1.3 MB/s (issue 9, item 1). Statements that are reused are reset
 * by SQLite before each run, so sharing them is safe as long as a
 * statement's `iterate()` is not left open across another use of the same
 * SQL (the stores only call `run`, `get` and `all`).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * The statement for `sql` on `db`, prepared on first use and reused after.
 * The cache belongs to the connection: it goes with it (a `WeakMap` entry),
 * and `db.close()` finalizes its statements. The number of entries is the
 * number of distinct SQL texts a caller builds, so callers must not put
 * values into the text (use `?` parameters).
 *
 * @param db The open connection.
 * @param sql The SQL text (the cache key, byte for byte).
 * @returns The prepared statement.
 * @throws {Error} What `db.prepare` throws (SQL error, closed database).
 *
 * @example Usage
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import assert from "node:assert/strict";
 * import { cachedStatement } from "./statement_cache.ts";
 * const db = new DatabaseSync(":memory:");
 * const a = cachedStatement(db, "SELECT 1 AS n");
 * assert.equal(cachedStatement(db, "SELECT 1 AS n"), a);
 * db.close();
 * ```
 */
export function cachedStatement(
  db: DatabaseSync,
  sql: string,
): StatementSync {
  let statements = caches.get(db);
  if (statements === undefined) {
    statements = new Map();
    caches.set(db, statements);
  }
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
