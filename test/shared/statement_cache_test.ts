import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { cachedStatement } from "../../src/shared/mod.ts";

Deno.test("`cachedStatement()` prepares a SQL text once per connection and reuses it", () => {
  const a = new DatabaseSync(":memory:");
  const b = new DatabaseSync(":memory:");
  try {
    let prepared = 0;
    const prepare = a.prepare.bind(a);
    a.prepare = ((sql: string) => {
      prepared++;
      return prepare(sql);
    }) as typeof a.prepare;
    a.exec("CREATE TABLE t (n INTEGER)");
    for (let i = 0; i < 1000; i++) {
      cachedStatement(a, "INSERT INTO t (n) VALUES (?)").run(i);
    }
    const row = cachedStatement(a, "SELECT COUNT(*) AS n, SUM(n) AS s FROM t")
      .get() as { n: number; s: number };
    assert.deepEqual({ ...row }, { n: 1000, s: 499500 });
    assert.equal(prepared, 2);
    // Another connection gets its own statement (a statement belongs to one).
    const one = cachedStatement(a, "SELECT 1 AS x");
    const other = cachedStatement(b, "SELECT 1 AS x");
    assert.notEqual(one, other);
    assert.equal(cachedStatement(a, "SELECT 1 AS x"), one);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("`cachedStatement()` gives a reopened database fresh statements and passes SQL errors on", () => {
  const path = Deno.makeTempFileSync({ suffix: ".db" });
  try {
    let db = new DatabaseSync(path);
    db.exec("CREATE TABLE t (n INTEGER)");
    cachedStatement(db, "INSERT INTO t (n) VALUES (?)").run(1);
    db.close();
    db = new DatabaseSync(path);
    cachedStatement(db, "INSERT INTO t (n) VALUES (?)").run(2);
    assert.equal(
      (cachedStatement(db, "SELECT COUNT(*) AS n FROM t").get() as {
        n: number;
      }).n,
      2,
    );
    assert.throws(
      () => cachedStatement(db, "SELECT * FROM nowhere"),
      /nowhere/,
    );
    db.close();
  } finally {
    Deno.removeSync(path);
  }
});
