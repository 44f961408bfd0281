/**
 * The schema acceptance test: `pipeline.db` keeps the seed's `tasks` and
 * `results` tables exactly (seed-schema.md section 2), and only adds columns
 * after them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { migrate, openGraphDb } from "../../src/graph/db.ts";
import { MIGRATIONS } from "../../src/graph/migrations.ts";

/** One row of `PRAGMA table_info`. */
interface Column {
  cid: number;
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

const SEED_MD = new URL("../../../shared/seed-schema.md", import.meta.url);

/** The seed's CREATE TABLE statement of `table`, `--` comments removed. */
function seedCreateTable(md: string, table: string): string {
  const re = new RegExp(`CREATE TABLE ${table} \\([\\s\\S]*?\\n\\);`, "g");
  const found = [...md.matchAll(re)].map((m) => m[0]);
  assert.equal(found.length, 1, `one CREATE TABLE ${table} in the seed`);
  return found[0].replace(/--[^\n]*/g, "");
}

function tableInfo(db: DatabaseSync, table: string): Column[] {
  return db.prepare(`PRAGMA table_info(${table})`).all()
    .map((r) => ({ ...r })) as unknown as Column[];
}

async function withSeedAndOurs(
  fn: (seed: DatabaseSync, ours: DatabaseSync) => void,
): Promise<void> {
  const md = await Deno.readTextFile(SEED_MD);
  const seed = new DatabaseSync(":memory:");
  seed.exec(seedCreateTable(md, "tasks"));
  seed.exec(seedCreateTable(md, "results"));
  const dir = await Deno.makeTempDir({ prefix: "schema_test_" });
  const ours = openGraphDb(join(dir, "pipeline.db"));
  try {
    fn(seed, ours);
  } finally {
    ours.close();
    seed.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSeedColumnsFirst(
  seed: DatabaseSync,
  ours: DatabaseSync,
  table: string,
  expectedNames: string[],
): Column[] {
  const seedCols = tableInfo(seed, table);
  // Guards the parse: an empty or partial seed table must not pass.
  assert.deepEqual(seedCols.map((c) => c.name), expectedNames);
  const ourCols = tableInfo(ours, table);
  assert.ok(ourCols.length >= seedCols.length);
  for (const seedCol of seedCols) {
    assert.deepEqual(
      ourCols[seedCol.cid],
      seedCol,
      `${table}.${seedCol.name} as in the seed`,
    );
  }
  return ourCols.slice(seedCols.length);
}

Deno.test("`openGraphDb()` keeps the seed's tasks columns first and identical", async () => {
  await withSeedAndOurs((seed, ours) => {
    const extra = assertSeedColumnsFirst(seed, ours, "tasks", [
      "id",
      "category",
      "payload",
      "priority",
      "video_id",
      "frame_idx",
      "track_id",
      "meta",
      "dependencies",
      "status",
    ]);
    // Extra columns come after the seed's and never reuse a seed name.
    for (const col of extra) {
      assert.ok(col.cid >= 10, `${col.name} after the seed's columns`);
      assert.equal(col.pk, 0, `${col.name} is not part of the key`);
    }
    assert.ok(extra.length > 0, "queue columns were added");
  });
});

Deno.test("`openGraphDb()` keeps the seed's results columns first and identical", async () => {
  await withSeedAndOurs((seed, ours) => {
    const extra = assertSeedColumnsFirst(seed, ours, "results", [
      "id",
      "task_id",
      "result",
      "handled",
    ]);
    for (const col of extra) assert.ok(col.cid >= 4);
    // results.handled keeps the seed's DEFAULT 0.
    assert.equal(tableInfo(ours, "results")[3].dflt_value, "0");
  });
});

Deno.test("`openGraphDb()` migrates to the last version, and `migrate()` then applies nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "schema_test_" });
  try {
    const path = join(dir, "pipeline.db");
    const db = openGraphDb(path);
    const version = db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    assert.equal(version.user_version, MIGRATIONS.length);
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      Array.from({ length: MIGRATIONS.length }, (_, i) => i + 1),
    );
    assert.deepEqual(migrate(db), []);
    const mode = db.prepare("PRAGMA journal_mode").get() as {
      journal_mode: string;
    };
    assert.equal(mode.journal_mode, "wal");
    db.close();
    // Re-opening an up-to-date file applies nothing either.
    const again = openGraphDb(path);
    assert.deepEqual(migrate(again), []);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`migrate()` applies the migrations in order on a seed-only database", () => {
  const db = new DatabaseSync(":memory:");
  try {
    assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 1)), [1]);
    const cols = tableInfo(db, "tasks").map((c) => c.name);
    assert.equal(cols.length, 10);
    assert.deepEqual(
      migrate(db),
      MIGRATIONS.slice(1).map((m) => m.version),
    );
  } finally {
    db.close();
  }
});
