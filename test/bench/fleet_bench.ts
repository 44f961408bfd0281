/**
 * `deno task bench fleet`: the fleet side at fleet scale (issue 13 item 5).
 *
 * 1. Rows/s of many devices syncing at once: 200 simulated devices (4
 *    processes of 50, separate outbox.db files and device ids, the
 *    product's `SyncLoop` each with the default `pg.batch_size` of 500),
 *    1000 events of backlog each, into one throwaway PostgreSQL; from the
 *    first loop's start to the last outbox drained.
 * 2. A `vehicles` table of 10 million rows (generated server-side with
 *    `generate_series`: 1000 devices, 90 days, 8 vehicles per clip, 2 million
 *    distinct plates of which a few are seen often, boxes, and lat/lon
 *    around ten cities when the schema has them), with the
 *    product's indexes built after the load, then the p50/p95 of the
 *    product's own search (`searchVehicles`, what `vehicles --remote` runs,
 *    on a new connection each time as the command does): a wildcard plate
 *    pattern, a plate substring, a fuzzy plate (one edit), a one-hour time
 *    range, and 500 m around a point (`--near`) when the schema has lat/lon.
 *
 * Run: deno run --allow-all test/bench/fleet_bench.ts [--rows N]
 *   [--devices D] [--backlog B] [--runs R] [--durable] [--skip-sync] [--hold]
 *   [--near-only] (only the --near query, without the GIN indexes it does not use)
 *
 * Prints tables, then one JSON line with every figure.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Logger } from "../../src/log/mod.ts";
import {
  closePg,
  connectPg,
  ensureDatabase,
  migratePg,
  searchVehicles,
  type VehicleSearch,
} from "../../src/sink/mod.ts";
import { spawnFleetDevices } from "../support/fleet_sim.ts";
import { startPgCluster } from "../support/pg_cluster.ts";
import { prng } from "../support/random.ts";
import { fmt, table } from "./_util.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "10000000" },
    devices: { type: "string", default: "200" },
    backlog: { type: "string", default: "1000" },
    runs: { type: "string", default: "50" },
    durable: { type: "boolean", default: false },
    "skip-sync": { type: "boolean", default: false },
    hold: { type: "boolean", default: false },
    "near-only": { type: "boolean", default: false },
  },
});
const ROWS = Number(values.rows);
const DEVICES = Number(values.devices);
const BACKLOG = Number(values.backlog);
const RUNS = Number(values.runs);
const PROCESSES = 4;
/** Devices that wrote the big table, and its time span. */
const BIG_DEVICES = 1000;
const SPAN_DAYS = 90;
const SPAN_START = "2026-09-01T00:00:00Z";
const PLATES = 2_000_000;
const CHUNK = 1_000_000;

const quiet = new Logger({ sink: () => {} });
const random = prng(20261130);

/** p-th percentile (nearest rank) of `xs`. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

await using cluster = await startPgCluster({
  durable: values.durable,
  maxConnections: DEVICES + 50,
  settings: {
    shared_buffers: "1GB",
    maintenance_work_mem: "1GB",
    max_wal_size: "8GB",
    work_mem: "64MB",
  },
});
// An interrupted bench stops its server and removes its folder.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await cluster[Symbol.asyncDispose]().catch(() => {});
    Deno.exit(130);
  });
}
const figures: Record<string, number | string> = {};

// 1. Many devices at once.
if (!values["skip-sync"]) {
  await ensureDatabase(cluster.url, "fleet_sync", { log: quiet });
  const url = cluster.urlFor("fleet_sync");
  const setup = connectPg({ url, log: quiet, max: 1 });
  await migratePg(setup, { log: quiet });
  const dir = await Deno.makeTempDir({ prefix: "fleet_bench_" });
  try {
    const per = Math.ceil(DEVICES / PROCESSES);
    const processes = Array.from(
      { length: PROCESSES },
      (_, p) =>
        spawnFleetDevices({
          dir,
          url,
          first: p * per,
          count: Math.min(per, DEVICES - p * per),
          seed: 7,
          backlog: [BACKLOG, BACKLOG],
          live: false,
          batch: [500, 500],
        }),
    );
    await Promise.all(processes.map((p) => p.ready));
    await Promise.all(processes.map((p) => p.go()));
    await Promise.all(processes.map((p) => p.drain()));
    const done = await Promise.all(processes.map((p) => p.done));
    const summaries = done.map((d) => {
      if (d.code !== 0 || !d.summary) {
        throw new Error(`device process failed (${d.code}): ${d.stderr}`);
      }
      return d.summary;
    });
    const events = summaries.reduce((n, s) => n + s.events, 0);
    const start = Math.min(...summaries.map((s) => s.startedAt));
    const end = Math.max(...summaries.map((s) => s.drainedAt!));
    const [row] = await setup<{ n: number }[]>`
      SELECT count(*)::int AS n FROM vehicles`;
    figures.syncDevices = DEVICES;
    figures.syncRows = events;
    figures.syncRowsInPostgres = row!.n;
    figures.syncS = (end - start) / 1000;
    figures.syncRowsPerS = Math.round(events / ((end - start) / 1000));
    table(
      `${DEVICES} devices (${PROCESSES} processes) syncing ${BACKLOG} events each at once, batches of 500`,
      [
        ["devices", "rows", "in Postgres", "seconds", "rows/s"],
        [
          String(DEVICES),
          String(events),
          String(row!.n),
          fmt(figures.syncS as number, 1),
          String(figures.syncRowsPerS),
        ],
      ],
    );
  } finally {
    await closePg(setup, 2000);
    await Deno.remove(dir, { recursive: true });
  }
}

// 2. Ten million rows.
await ensureDatabase(cluster.url, "fleet_big", { log: quiet });
const sql = connectPg({
  url: cluster.urlFor("fleet_big"),
  log: quiet,
  max: 1,
  idleTimeoutS: 3600,
});
await migratePg(sql, { log: quiet });
const columns = new Map(
  (await sql<{ column_name: string; udt_name: string }[]>`
    SELECT column_name, udt_name FROM information_schema.columns
    WHERE table_name = 'vehicles'`).map((c) => [c.column_name, c.udt_name]),
);
const indexes = await sql<{ indexname: string; indexdef: string }[]>`
  SELECT indexname, indexdef FROM pg_indexes
  WHERE tablename = 'vehicles' AND indexname <> 'vehicles_pkey'`;
// Foreign keys that lean on those indexes (vehicle_evidence's on event_key)
// go while loading and come back after (the referencing tables are empty).
const foreignKeys = await sql<{ tbl: string; name: string; def: string }[]>`
  SELECT conrelid::regclass::text AS tbl, conname AS name,
    pg_get_constraintdef(oid) AS def
  FROM pg_constraint WHERE confrelid = 'vehicles'::regclass AND contype = 'f'`;
for (const fk of foreignKeys) {
  await sql.unsafe(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT ${fk.name}`);
}
for (const ix of indexes) await sql.unsafe(`DROP INDEX ${ix.indexname}`);

let t = performance.now();
await sql`SELECT setseed(0.42)`;

// Optional columns another migration may have added (issue 13 items 1-4).
const extra: Array<[string, string]> = [];
const cities =
  "ARRAY[52.52,48.86,51.51,40.42,41.90,50.08,47.50,52.23,59.33,38.72]";
const lons =
  "ARRAY[13.40,2.35,-0.13,-3.70,12.50,14.44,19.04,21.01,18.07,-9.14]";
const lat = `(${cities})[1 + dev % 10] + (r4 - 0.5) * 0.4`;
const lon = `(${lons})[1 + dev % 10] + (r5 - 0.5) * 0.6`;
if (columns.has("lat") && columns.has("lon")) {
  // Devices send lat/lon; where PostGIS is there, `location` is derived.
  extra.push(["lat", lat], ["lon", lon]);
}
if (columns.has("speed_kmh")) extra.push(["speed_kmh", "round(r2 * 120)"]);
if (columns.has("heading_deg")) extra.push(["heading_deg", "round(r3 * 359)"]);
const secondsPerEvent = Math.floor(
  SPAN_DAYS * 86400 / Math.ceil(ROWS / BIG_DEVICES),
);
// Plate p of 2 million: 3 letters and 4 digits from two hashes of p; p is
// drawn as floor(P * r^2), so low numbers (regulars) are seen often.
const plate = `substr(l, 1 + (h1 & 255) % 23, 1) ||
  substr(l, 1 + ((h1 >> 8) & 255) % 23, 1) ||
  substr(l, 1 + ((h1 >> 16) & 255) % 23, 1) ||
  lpad(((h2 & 2147483647) % 10000)::text, 4, '0')`;
const hex8 = (x: string) => `lpad(to_hex(hashint8(${x})), 8, '0')`;
for (let lo = 0; lo < ROWS; lo += CHUNK) {
  const hi = Math.min(ROWS, lo + CHUNK) - 1;
  // Subqueries with random() in their select lists are not flattened, so
  // each r is drawn once per row.
  await sql.unsafe(`
    INSERT INTO vehicles (device_id, event_key, video_id, track_id, frame_idx,
      ts, final_plate, plate_confidence, car_bbox, plate_bbox${
    extra.map(([c]) => `, ${c}`).join("")
  })
    SELECT 'van-' || lpad(dev::text, 4, '0'),
      vid || ':' || (n % 8 + 1), vid, n % 8 + 1, (r2 * 300)::int,
      '${SPAN_START}'::timestamptz
        + make_interval(secs => n * ${secondsPerEvent} + dev * 7 + r3 * 60),
      ${plate}, round((0.6 + r3 * 0.4)::numeric, 3)::float8,
      jsonb_build_array(x, y, x + w, y + (w * 3) / 4),
      jsonb_build_array(x + w * 3 / 10, y + w / 2, x + w * 7 / 10, y + w * 6 / 10)${
    extra.map(([, e]) => `, ${e}`).join("")
  }
    FROM (
      SELECT *, ${hex8("dev * 1000000 + n / 8")} ||
          ${hex8("dev * 1000000 + n / 8 + 500000")} AS vid,
        hashint4(p) AS h1, hashint4(p # 1431655765) AS h2,
        'ABCDEFGHJKLMNPRSTUVWXYZ' AS l
      FROM (
        SELECT i % ${BIG_DEVICES} AS dev, i / ${BIG_DEVICES} AS n,
          floor(${PLATES} * r1 * r1)::int AS p, r2, r3, r4, r5, x, y, w
        FROM (
          SELECT i, random() AS r1, random() AS r2, random() AS r3,
            random() AS r4, random() AS r5,
            (random() * 1600)::int AS x, (random() * 800)::int AS y,
            120 + (random() * 200)::int AS w
          FROM generate_series(${lo}::bigint, ${hi}::bigint) i
        ) a
      ) b
    ) g`);
  console.error(`loaded ${hi + 1} rows (${fmt(seconds(t), 0)} s)`);
}
figures.bigRows = ROWS;
figures.loadS = Math.round(seconds(t));
t = performance.now();
for (const ix of indexes) {
  // --near-only: the GIN indexes (plates, boxes) serve no --near query and
  // take two thirds of the index time.
  if (values["near-only"] && /USING gin/i.test(ix.indexdef)) continue;
  const one = performance.now();
  await sql.unsafe(ix.indexdef);
  console.error(`index ${ix.indexname}: ${fmt(seconds(one), 0)} s`);
}
for (const fk of foreignKeys) {
  await sql.unsafe(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.name} ${fk.def}`);
}
await sql.unsafe("ANALYZE vehicles");
figures.indexS = Math.round(seconds(t));
const [size] = await sql<{ table: string; total: string }[]>`
  SELECT pg_size_pretty(pg_table_size('vehicles')) AS table,
    pg_size_pretty(pg_total_relation_size('vehicles')) AS total`;
figures.tableSize = size!.table;
figures.totalSize = size!.total;

if (values.hold) {
  // For looking at plans by hand: psql on this URL until stdin closes.
  console.error(
    `holding: ${cluster.urlFor("fleet_big")} (close stdin to go on)`,
  );
  for await (const _ of Deno.stdin.readable) { /* until closed */ }
}

// The queries, through the product's search.
const plateSample = (await sql<{ plate: string }[]>`
  SELECT final_plate AS plate FROM vehicles TABLESAMPLE SYSTEM (0.1)
  LIMIT 2000`).map((r) => r.plate);
const pick = () => plateSample[Math.floor(random() * plateSample.length)]!;
const spanMs = SPAN_DAYS * 86_400_000;
const startMs = Date.parse(SPAN_START);
const kinds: Array<[string, () => VehicleSearch]> = [
  ["plate pattern `AB?12*` (ILIKE)", () => {
    const p = pick();
    return { plate: `${p.slice(0, 2)}?${p.slice(3, 5)}*` };
  }],
  ["plate substring `C123` (ILIKE %…%)", () => ({ plate: pick().slice(2, 6) })],
  ["fuzzy plate, one edit (`--fuzzy`)", () => {
    const p = pick();
    const i = Math.floor(random() * p.length);
    const swapped = /\d/.test(p[i]!) ? String((Number(p[i]) + 1) % 10) : "X";
    return { plate: p.slice(0, i) + swapped + p.slice(i + 1), fuzzy: 1 };
  }],
  ["time range, one hour (`--since --until`)", () => {
    const from = startMs + Math.floor(random() * (spanMs - 3_600_000));
    return {
      since: new Date(from).toISOString(),
      until: new Date(from + 3_600_000).toISOString(),
    };
  }],
];

if (columns.has("lat")) {
  const points = await sql<{ lat: number; lon: number }[]>`
    SELECT lat, lon FROM vehicles TABLESAMPLE SYSTEM (0.1)
    WHERE lat IS NOT NULL LIMIT 2000`;
  kinds.push([
    `within 500 m of a point (\`--near\`${
      columns.has("location") ? ", PostGIS" : ", lat/lon"
    })`,
    () => {
      const p = points[Math.floor(random() * points.length)]!;
      return { near: { lat: p.lat, lon: p.lon, radiusM: 500 } };
    },
  ]);
}

/**
 * Times the product's search as `vehicles --remote` runs it: a new
 * connection per search (connected before the clock starts), so each query
 * is planned with its own values. (On one reused connection postgres.js's
 * prepared statement gets PostgreSQL's generic plan after 5 runs, and for
 * these filters that plan walks the whole `ts` index: 25 s for a pattern and
 * 200 s for a fuzzy plate measured here on 10 million rows, so a long-lived
 * search client must use `plan_cache_mode = force_custom_plan`.)
 */
async function timed(
  make: () => VehicleSearch,
): Promise<{ ms: number[]; rows: number }> {
  const url = cluster.urlFor("fleet_big");
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const db = connectPg({ url, log: quiet, max: 1 });
    try {
      await db`SELECT 1`;
      const filter = make();
      const one = performance.now();
      rows += (await searchVehicles(db, filter)).length;
      ms.push(performance.now() - one);
    } finally {
      await closePg(db, 2000);
    }
  }
  return { ms, rows: rows / RUNS };
}

const results: string[][] = [[
  "query (limit 100, newest first)",
  "p50 ms",
  "p95 ms",
  "mean rows",
]];
for (const [name, make] of kinds) {
  if (values["near-only"] && !name.includes("--near")) continue;
  const { ms, rows } = await timed(make);
  figures[`${name} p50`] = Math.round(percentile(ms, 50) * 10) / 10;
  figures[`${name} p95`] = Math.round(percentile(ms, 95) * 10) / 10;
  results.push([
    name,
    fmt(percentile(ms, 50), 1),
    fmt(percentile(ms, 95), 1),
    fmt(rows, 0),
  ]);
}
table(
  `${ROWS.toLocaleString("en")} rows in vehicles (${size!.table} table, ${
    size!.total
  } with indexes; load ${figures.loadS} s, indexes ${figures.indexS} s): the product's search (searchVehicles, as \`vehicles --remote\`: a new connection each), ${RUNS} runs each`,
  results,
);
await closePg(sql, 5000);
console.log(JSON.stringify(figures));
