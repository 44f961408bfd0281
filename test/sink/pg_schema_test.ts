import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import { closePg, connectPg, type PgSql } from "../../src/sink/pg_client.ts";
import {
  ensureDatabase,
  migratePg,
  PG_MIGRATIONS,
  pgSchemaVersion,
  withDatabase,
} from "../../src/sink/pg_schema.ts";
import { type PgCluster, startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

/** The seed's `vehicles` (seed-schema.md 3.1) as information_schema shows it. */
const SEED_COLUMNS = [
  ["id", "integer", "NO", "nextval('vehicles_id_seq'::regclass)"],
  ["track_id", "integer", "YES", null],
  ["video_id", "text", "NO", null],
  ["frame_idx", "integer", "NO", null],
  ["ts", "timestamp with time zone", "NO", null],
  ["final_plate", "text", "NO", null],
  ["plate_confidence", "double precision", "NO", null],
  ["car_bbox", "jsonb", "NO", null],
  ["plate_bbox", "jsonb", "NO", null],
  ["created_at", "timestamp with time zone", "YES", "now()"],
];

/** Columns the later migrations add: all nullable, no default. */
const ADDED_COLUMNS = [
  ["device_id", "text", "YES", null],
  ["event_key", "text", "YES", null],
  ["alert_id", "integer", "YES", null],
  ["lat", "double precision", "YES", null],
  ["lon", "double precision", "YES", null],
  ["speed_kmh", "double precision", "YES", null],
  ["heading_deg", "double precision", "YES", null],
  ["time_source", "text", "YES", null],
  // PostGIS is installed on the test machines (CI installs it).
  ["location", "USER-DEFINED", "YES", null],
];

/** The seed's DDL, verbatim, as another tool would run it. */
const SEED_DDL = `CREATE TABLE vehicles (
    id SERIAL PRIMARY KEY,
    track_id INTEGER,
    video_id TEXT NOT NULL,
    frame_idx INTEGER NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    final_plate TEXT NOT NULL,
    plate_confidence FLOAT NOT NULL,
    car_bbox JSONB NOT NULL,
    plate_bbox JSONB NOT NULL,
    created_at TIMESTAMPTZ DEFAULT now()
)`;

async function columns(sql: PgSql, table: string): Promise<unknown[][]> {
  const rows = await sql<
    {
      column_name: string;
      data_type: string;
      is_nullable: string;
      column_default: string | null;
    }[]
  >`
    SELECT column_name, data_type, is_nullable, column_default
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = ${table}
    ORDER BY ordinal_position`;
  return rows.map((
    r,
  ) => [r.column_name, r.data_type, r.is_nullable, r.column_default]);
}

async function withDb(
  cluster: PgCluster,
  name: string,
  fn: (sql: PgSql) => Promise<void>,
): Promise<void> {
  await ensureDatabase(cluster.url, name, { log: quiet });
  const sql = connectPg({ url: cluster.urlFor(name), log: quiet });
  try {
    await fn(sql);
  } finally {
    await closePg(sql, 2000);
  }
}

Deno.test("pg_schema against a real server", async (t) => {
  await using cluster = await startPgCluster();

  await t.step("`ensureDatabase()` creates the database once", async () => {
    assert.equal(
      await ensureDatabase(cluster.url, "dashcam_final", { log: quiet }),
      true,
    );
    assert.equal(
      await ensureDatabase(cluster.url, "dashcam_final", { log: quiet }),
      false,
    );
    const sql = connectPg({ url: cluster.url, log: quiet });
    const rows = await sql`
      SELECT datname FROM pg_database WHERE datname = 'dashcam_final'`;
    await closePg(sql, 2000);
    assert.equal(rows.length, 1);
  });

  await t.step(
    "`ensureDatabase()` run twice at once creates it once and both succeed",
    async () => {
      const results = await Promise.all([
        ensureDatabase(cluster.url, "raced_db", { log: quiet }),
        ensureDatabase(cluster.url, "raced_db", { log: quiet }),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
    },
  );

  await t.step(
    "`migratePg()` makes `vehicles` match the seed column by column",
    async () => {
      await withDb(cluster, "dashcam_final", async (sql) => {
        const result = await migratePg(sql, { log: quiet });
        assert.deepEqual(result.applied, [1, 2, 3, 4, 5, 6, 7]);
        assert.equal(result.current, PG_MIGRATIONS.length);
        assert.deepEqual(await columns(sql, "vehicles"), [
          ...SEED_COLUMNS,
          ...ADDED_COLUMNS,
        ]);
        const [pk] = await sql<{ def: string }[]>`
          SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = 'vehicles'::regclass AND contype = 'p'`;
        assert.equal(pk?.def, "PRIMARY KEY (id)");
      });
    },
  );

  await t.step(
    "`migratePg()` creates the search indexes and alerts",
    async () => {
      await withDb(cluster, "dashcam_final", async (sql) => {
        const rows = await sql<{ indexname: string; indexdef: string }[]>`
        SELECT indexname, indexdef FROM pg_indexes
        WHERE tablename = 'vehicles' ORDER BY indexname`;
        const defs = Object.fromEntries(
          rows.map((r) => [r.indexname, r.indexdef.replace(/^.* USING /, "")]),
        );
        assert.deepEqual(defs, {
          vehicles_alert_id_idx:
            "btree (alert_id) WHERE (alert_id IS NOT NULL)",
          vehicles_car_bbox_idx: "gin (car_bbox jsonb_path_ops)",
          vehicles_event_key_key: "btree (event_key)",
          vehicles_final_plate_trgm_idx: "gin (final_plate gin_trgm_ops)",
          vehicles_lat_lon_idx: "btree (lat, lon) WHERE (lat IS NOT NULL)",
          vehicles_location_gist: "gist (location)",
          vehicles_pkey: "btree (id)",
          vehicles_plate_bbox_idx: "gin (plate_bbox jsonb_path_ops)",
          vehicles_ts_idx: "btree (ts)",
        });
        const unique = rows.find((r) =>
          r.indexname === "vehicles_event_key_key"
        );
        assert.match(unique?.indexdef ?? "", /^CREATE UNIQUE INDEX/);
        assert.deepEqual(await columns(sql, "alerts"), [
          ["id", "integer", "NO", "nextval('alerts_id_seq'::regclass)"],
          ["plate", "text", "NO", null],
          ["match", "text", "NO", "'exact'::text"],
          ["note", "text", "YES", null],
          ["active", "boolean", "NO", "true"],
          ["created_at", "timestamp with time zone", "NO", "now()"],
        ]);
        await assert.rejects(
          sql`INSERT INTO alerts (plate, match) VALUES ('AB1', 'fuzzy2')`,
          (err: { code?: string }) => err.code === "23514",
        );
      });
    },
  );

  await t.step("`migratePg()` run again applies nothing", async () => {
    await withDb(cluster, "dashcam_final", async (sql) => {
      const again = await migratePg(sql, { log: quiet });
      assert.deepEqual(again, { applied: [], current: 7 });
      const rows = await sql<{ version: number; name: string }[]>`
        SELECT version, name FROM schema_migrations ORDER BY version`;
      assert.deepEqual(rows.map((r) => [r.version, r.name]), [
        [1, "seed_vehicles"],
        [2, "vehicles_device_and_event_key"],
        [3, "alerts"],
        [4, "search_indexes"],
        [5, "vehicles_location"],
        [6, "vehicle_evidence"],
        [7, "video_metadata_and_tracks"],
      ]);
      assert.equal(await pgSchemaVersion(sql), 7);
    });
  });

  await t.step("four migrators at once all succeed", async () => {
    await ensureDatabase(cluster.url, "race", { log: quiet });
    const clients = Array.from(
      { length: 4 },
      () => connectPg({ url: cluster.urlFor("race"), max: 1, log: quiet }),
    );
    try {
      assert.equal(await pgSchemaVersion(clients[0]!), 0);
      const results = await Promise.all(
        clients.map((sql) => migratePg(sql, { log: quiet })),
      );
      const applied = results.flatMap((r) => r.applied).sort();
      assert.deepEqual(applied, [1, 2, 3, 4, 5, 6, 7]);
      for (const r of results) assert.equal(r.current, 7);
      const [count] = await clients[0]!<{ n: number }[]>`
        SELECT count(*)::int AS n FROM schema_migrations`;
      assert.equal(count?.n, 7);
      assert.deepEqual(await columns(clients[1]!, "vehicles"), [
        ...SEED_COLUMNS,
        ...ADDED_COLUMNS,
      ]);
    } finally {
      for (const sql of clients) await closePg(sql, 2000);
    }
  });

  await t.step(
    "`migratePg()` adopts a `vehicles` table the seed's own DDL created",
    async () => {
      await withDb(cluster, "seeded", async (sql) => {
        await sql.unsafe(SEED_DDL);
        await sql`
          INSERT INTO vehicles (track_id, video_id, frame_idx, ts, final_plate,
            plate_confidence, car_bbox, plate_bbox)
          VALUES (3, 'old', 9, '2024-01-01T00:00:00Z', 'OLD1', 0.7,
            '[1,2,3,4]', '[5,6,7,8]')`;
        const result = await migratePg(sql, { log: quiet });
        assert.deepEqual(result.applied, [1, 2, 3, 4, 5, 6, 7]);
        assert.deepEqual(await columns(sql, "vehicles"), [
          ...SEED_COLUMNS,
          ...ADDED_COLUMNS,
        ]);
        const rows = await sql`
          SELECT final_plate, event_key, device_id, car_bbox FROM vehicles`;
        assert.deepEqual(rows.map((r) => ({ ...r })), [{
          final_plate: "OLD1",
          event_key: null,
          device_id: null,
          car_bbox: [1, 2, 3, 4],
        }]);
        // A second keyless row from another tool still fits (NULLs are distinct).
        await sql`
          INSERT INTO vehicles (video_id, frame_idx, ts, final_plate,
            plate_confidence, car_bbox, plate_bbox)
          VALUES ('old', 10, now(), 'OLD2', 0.7, '[1,2,3,4]', '[5,6,7,8]')`;
        const [n] = await sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM vehicles`;
        assert.equal(n?.n, 2);
      });
    },
  );

  await t.step("`withDatabase()` swaps only the database of a URL", () => {
    assert.equal(
      withDatabase("postgres://u:p%40ss@h:6543/postgres?sslmode=require", "x"),
      "postgres://u:p%40ss@h:6543/x?sslmode=require",
    );
  });
});
