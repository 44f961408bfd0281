import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  classifySyncError,
  OutboxWriteError,
} from "../../src/sink/sync_error.ts";

function pgError(code: string): Error {
  return Object.assign(new Error(`server said ${code}`), {
    name: "PostgresError",
    code,
  });
}

function netError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.5:5432`), { code });
}

Deno.test("`classifySyncError()` isolates rows for errors about the row", () => {
  for (
    const code of [
      "22001", // value too long
      "22P02", // invalid text representation
      "23505", // unique violation (another key than event_key)
      "23514", // check constraint
      "23502", // not null
      "44000", // WITH CHECK OPTION
      "P0001", // trigger RAISE EXCEPTION
      "P0004", // assert failure in a trigger
      "42501", // row-level security refusal
      "09000", // triggered action exception
      "27000", // triggered data change violation
      "38001", // external routine exception
      "39P01", // trigger protocol violated
      "54000", // program limit (a row too large)
    ]
  ) {
    assert.equal(classifySyncError(pgError(code)), "row", code);
  }
});

Deno.test("`classifySyncError()` retries the whole batch for connection and server-state errors", () => {
  for (
    const code of [
      "08006", // connection failure
      "08P01", // protocol violation
      "25006", // read-only transaction (a standby)
      "28P01", // wrong password
      "3D000", // no such database
      "40001", // serialization failure
      "40P01", // deadlock
      "53100", // server disk full
      "53300", // too many connections
      "55P03", // lock not available
      "57P01", // admin shutdown
      "57P03", // cannot connect now (starting up)
      "57014", // statement cancelled
      "58030", // I/O error
      "XX000", // internal error
      "42P01", // table missing: the schema, not the row
      "42703", // column missing
    ]
  ) {
    assert.equal(classifySyncError(pgError(code)), "retry", code);
  }
  for (
    const code of [
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "ETIMEDOUT",
      "EHOSTUNREACH",
      "ENOTFOUND",
      "CONNECT_TIMEOUT",
      "CONNECTION_CLOSED",
      "CONNECTION_ENDED",
      "CONNECTION_DESTROYED",
      "QUERY_TIMEOUT",
    ]
  ) {
    assert.equal(classifySyncError(netError(code)), "retry", code);
  }
  // Without a SQLSTATE nothing is set aside.
  assert.equal(classifySyncError(new Error("who knows")), "retry");
  assert.equal(classifySyncError("a string"), "retry");
  assert.equal(classifySyncError(null), "retry");
  // A 5-character code on a non-server error is not a SQLSTATE.
  assert.equal(classifySyncError(netError("P0001")), "retry");
});

Deno.test("`classifySyncError()` calls an outbox (SQLite) failure local", () => {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE t (x INTEGER); PRAGMA query_only = 1");
  let sqliteError: unknown = null;
  try {
    db.exec("INSERT INTO t VALUES (1)");
  } catch (err) {
    sqliteError = err;
  }
  db.close();
  assert.notEqual(sqliteError, null);
  assert.equal(classifySyncError(sqliteError), "local");
  const wrapped = new OutboxWriteError(
    "/var/lib/dashcam/outbox.db",
    "mark 5 rows sent",
    sqliteError,
  );
  assert.equal(classifySyncError(wrapped), "local");
  assert.match(
    wrapped.message,
    /^Cannot write the outbox \/var\/lib\/dashcam\/outbox\.db \(mark 5 rows sent\): .*readonly.*, will retry/,
  );
});
