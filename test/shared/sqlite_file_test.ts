import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  DamagedDatabaseError,
  inspectDatabaseFile,
  openDatabaseFile,
  setAsideDatabase,
} from "../../src/shared/sqlite_file.ts";

async function withDir(fn: (dir: string) => void) {
  const dir = await Deno.makeTempDir({ prefix: "sqlite_file_test_" });
  try {
    fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`inspectDatabaseFile()` tells absent, damaged and plausible files apart", async () => {
  await withDir((dir) => {
    const p = join(dir, "x.db");
    assert.equal(inspectDatabaseFile(p), "absent");
    Deno.writeFileSync(p, new Uint8Array());
    assert.match(inspectDatabaseFile(p)!, /zero bytes/);
    // A new WAL database may live wholly in its -wal for a while.
    Deno.writeFileSync(`${p}-wal`, new Uint8Array(32));
    assert.equal(inspectDatabaseFile(p), null);
    Deno.removeSync(`${p}-wal`);
    Deno.writeFileSync(p, new Uint8Array(50));
    assert.match(inspectDatabaseFile(p)!, /too short/);
    Deno.writeFileSync(p, new Uint8Array(4096));
    assert.match(inspectDatabaseFile(p)!, /bad header/);
    Deno.removeSync(p);
    const db = new DatabaseSync(p);
    db.exec("CREATE TABLE t (a)");
    db.close();
    assert.equal(inspectDatabaseFile(p), null);
  });
});

Deno.test("`setAsideDatabase()` keeps the file with its -wal/-shm under one stamp, never over an earlier one", async () => {
  await withDir((dir) => {
    const p = join(dir, "x.db");
    const at = new Date("2026-01-02T03:04:05.678Z");
    for (const s of ["", "-wal", "-shm"]) {
      Deno.writeFileSync(p + s, new Uint8Array([1]));
    }
    assert.equal(setAsideDatabase(p, at), `${p}.damaged-20260102T030405Z`);
    Deno.writeFileSync(p, new Uint8Array([2]));
    assert.equal(setAsideDatabase(p, at), `${p}.damaged-20260102T030405Z-1`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "x.db.damaged-20260102T030405Z",
      "x.db.damaged-20260102T030405Z-1",
      "x.db.damaged-20260102T030405Z-shm",
      "x.db.damaged-20260102T030405Z-wal",
    ]);
  });
});

Deno.test("`openDatabaseFile()` names the file in its errors and creates only when absent", async () => {
  await withDir((dir) => {
    const p = join(dir, "x.db");
    Deno.writeFileSync(p, new TextEncoder().encode("x".repeat(200)));
    assert.throws(
      () => openDatabaseFile(p, { label: "outbox" }),
      (err: unknown) =>
        err instanceof DamagedDatabaseError &&
        err.message.startsWith(`The outbox ${p} is damaged`),
    );
    assert.equal(Deno.readTextFileSync(p), "x".repeat(200), "left as it was");
    assert.throws(
      () => openDatabaseFile(join(dir, "no", "such", "x.db")),
      /Cannot open the database .*no\/such\/x\.db/,
    );
    const opened = openDatabaseFile(join(dir, "new.db"));
    assert.equal(opened.created, true);
    opened.db.close();
  });
});
