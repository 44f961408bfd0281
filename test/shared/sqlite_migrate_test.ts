import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  migrateSqlite,
  type SqliteMigration,
} from "../../src/shared/sqlite_migrate.ts";

const STEPS: SqliteMigration[] = [
  { version: 1, name: "t", sql: "CREATE TABLE t (a INTEGER)" },
  { version: 2, name: "t_b", sql: "ALTER TABLE t ADD COLUMN b TEXT" },
  { version: 3, name: "u", sql: "CREATE TABLE u (x INTEGER)" },
];

function columns(db: DatabaseSync, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as {
    name: string;
  }[]).map((c) => c.name);
}

for (const ledger of ["user_version", "schema_migrations"] as const) {
  Deno.test(`migrateSqlite (${ledger}): applies only what is new, once`, () => {
    const db = new DatabaseSync(":memory:");
    assert.deepEqual(migrateSqlite(db, STEPS.slice(0, 1), { ledger }), [1]);
    assert.deepEqual(migrateSqlite(db, STEPS, { ledger }), [2, 3]);
    assert.deepEqual(migrateSqlite(db, STEPS, { ledger }), []);
    assert.deepEqual(columns(db, "t"), ["a", "b"]);
    db.close();
  });

  Deno.test(`migrateSqlite (${ledger}): a failing migration keeps nothing of itself and stops`, () => {
    const db = new DatabaseSync(":memory:");
    const bad: SqliteMigration[] = [
      STEPS[0],
      {
        version: 2,
        name: "half",
        sql: "ALTER TABLE t ADD COLUMN c TEXT; CREATE TABLE t (dup INTEGER)",
      },
      STEPS[2],
    ];
    assert.throws(() => migrateSqlite(db, bad, { ledger }), /already exists/);
    assert.deepEqual(columns(db, "t"), ["a"]); // c rolled back
    assert.deepEqual(columns(db, "u"), []); // 3 not run
    // Fixed, it goes on from version 2.
    assert.deepEqual(migrateSqlite(db, STEPS, { ledger }), [2, 3]);
    db.close();
  });
}

Deno.test("migrateSqlite records in user_version or in schema_migrations, as the file always did", () => {
  const a = new DatabaseSync(":memory:");
  migrateSqlite(a, STEPS, { ledger: "user_version" });
  assert.equal(
    (a.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version,
    3,
  );
  assert.equal(
    a.prepare(
      "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'",
    ).get(),
    undefined,
  );
  const b = new DatabaseSync(":memory:");
  const at = new Date("2026-11-30T12:00:00Z");
  migrateSqlite(b, STEPS, { ledger: "schema_migrations", now: () => at });
  assert.deepEqual(
    b.prepare("SELECT version, name, applied_at FROM schema_migrations")
      .all().map((r) => ({ ...r })),
    STEPS.map((m) => ({
      version: m.version,
      name: m.name,
      applied_at: at.toISOString(),
    })),
  );
  a.close();
  b.close();
});

Deno.test("migrateSqlite refuses versions that are not dense and in order", () => {
  const db = new DatabaseSync(":memory:");
  assert.throws(
    () => migrateSqlite(db, [STEPS[0], STEPS[2]], { ledger: "user_version" }),
    /dense and in order \(u has 3 after 1\)/,
  );
  db.close();
});
