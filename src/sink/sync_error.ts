/**
 * What the sync does with an error: retry the whole batch later (the link or
 * the server is at fault), set the row aside (the server refused this row),
 * or back off on a local outbox fault. Pure: tested alone.
 *
 * @module
 */

/** How the sync treats an error; see {@linkcode classifySyncError}. */
export type SyncErrorKind = "retry" | "row" | "local";

/**
 * SQLSTATE classes (first two characters) that say nothing about the row:
 * the connection, the server's state or the schema is at fault, so every row
 * would fail the same way and the batch is retried whole, with backoff.
 * Source: PostgreSQL 15 manual, appendix A "PostgreSQL Error Codes".
 * - 08 connection exception, 25 invalid transaction state (e.g. 25006 a
 *   read-only standby), 26 invalid SQL statement name, 28 invalid
 *   authorization, 2D invalid transaction termination, 3D invalid catalog
 *   name (no database), 3F invalid schema name, 40 transaction rollback
 *   (serialization failure, deadlock), 53 insufficient resources (disk full,
 *   out of memory, too many connections), 55 object not in prerequisite state
 *   (lock not available), 57 operator intervention (shutdown, cancel), 58
 *   system error (I/O), F0 configuration file error, XX internal error.
 */
const RETRY_CLASSES = new Set([
  "08",
  "25",
  "26",
  "28",
  "2D",
  "3D",
  "3F",
  "40",
  "53",
  "55",
  "57",
  "58",
  "F0",
  "XX",
]);

/**
 * Driver and socket codes (postgres.js, node:net) of a lost or refused
 * connection, and our own statement timeout.
 */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "QUERY_TIMEOUT",
]);

/**
 * Decides what the sync does with an error.
 *
 * - `"local"`: the outbox (local SQLite) failed, e.g. SQLITE_FULL or a
 *   read-only file (`code: "ERR_SQLITE_ERROR"`, or an `OutboxWriteError`
 *   wrapping one). Back off; Postgres is not at fault.
 * - `"row"`: the server refused the statement for a reason that can be about
 *   the data: any SQLSTATE outside {@linkcode RETRY_CLASSES} and outside
 *   class 42 except 42501. That covers 22 data exception, 23 integrity
 *   constraint, 44 WITH CHECK OPTION, P0001 a trigger's `RAISE EXCEPTION`,
 *   42501 a row-level-security refusal, 09/27/38/39 errors raised in
 *   triggers. The batch is re-sent row by row and only the rows that fail
 *   are set aside.
 * - `"retry"`: everything else: connection-level codes (ECONNREFUSED, EPIPE,
 *   CONNECTION_CLOSED, timeouts), the classes above, class 42 other than
 *   42501 (a missing table or column: the schema, not the row) and any
 *   error without a SQLSTATE. The whole batch stays pending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const pg = (code: string) => Object.assign(new Error("x"), { name: "PostgresError", code });
 * assert.equal(classifySyncError(pg("P0001")), "row");
 * assert.equal(classifySyncError(pg("57P01")), "retry");
 * assert.equal(classifySyncError(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), "retry");
 * ```
 * @param err What was thrown.
 * @returns The kind.
 */
export function classifySyncError(err: unknown): SyncErrorKind {
  if (typeof err !== "object" || err === null) return "retry";
  const e = err as { name?: unknown; code?: unknown; cause?: unknown };
  if (e.name === "OutboxWriteError" || e.code === "ERR_SQLITE_ERROR") {
    return "local";
  }
  if (typeof e.code !== "string") return "retry";
  if (CONNECTION_CODES.has(e.code)) return "retry";
  if (e.name !== "PostgresError" || !/^[0-9A-Z]{5}$/.test(e.code)) {
    return "retry";
  }
  const cls = e.code.slice(0, 2);
  if (RETRY_CLASSES.has(cls)) return "retry";
  if (cls === "42") return e.code === "42501" ? "row" : "retry";
  return "row";
}

/**
 * A write to the local outbox failed while syncing (disk full, read-only
 * file, damaged database). Names the file; `cause` keeps the SQLite error.
 */
export class OutboxWriteError extends Error {
  /**
   * @param path The outbox file.
   * @param action What was being written, e.g. "mark 500 rows sent".
   * @param cause The SQLite error.
   */
  constructor(path: string, action: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Cannot write the outbox ${path} (${action}): ${reason}, will retry (check free space and that the file is writable)`,
      { cause },
    );
    this.name = "OutboxWriteError";
  }
}
