/**
 * Versioned migrations of the fleet database (`dashcam_final`). Version 1 is
 * the seed's `vehicles` table exactly as `seed-schema.md` section 3 gives it;
 * later versions only add nullable columns, indexes and tables, so rows
 * written by other tools keep their meaning. Each migration runs in its own
 * transaction under an advisory lock, so several migrators may run at once.
 *
 * @module
 */
import { log as defaultLog, type Logger } from "../log/mod.ts";
import {
  closePg,
  connectPg,
  type ConnectPgOptions,
  type PgSql,
} from "./pg_client.ts";

/** One migration of the fleet database. */
export interface PgMigration {
  /** Version number, 1-based and dense. */
  version: number;
  /** Short name. */
  name: string;
  /** SQL (may hold several statements) run in one transaction. */
  sql: string;
}

/** Default name of the fleet database. */
export const DEFAULT_DATABASE = "dashcam_final";

/**
 * Key of the advisory lock held while migrating (any constant works; this is
 * "dashcam" in ASCII, read as a number).
 */
export const MIGRATION_LOCK_KEY = 0x64617368_63616dn;

/**
 * Adds `vehicles.location geography(Point, 4326)` (derived from lat/lon)
 * and its GiST index when PostGIS can be had: `CREATE EXTENSION IF NOT
 * EXISTS postgis` is tried in a sub-transaction, so a server without the
 * package, or an owner not allowed to create it, leaves a notice and the
 * lat/lon columns only. Idempotent: `migrate` runs it again on every call
 * ({@linkcode ensurePostgisLocation}), so installing PostGIS later and
 * re-running `migrate` adds the column.
 */
export const POSTGIS_LOCATION_SQL = `
DO $postgis$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS postgis;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'PostGIS not available (%); vehicles keep lat/lon only', SQLERRM;
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
    EXECUTE 'ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS location '
      'geography(Point, 4326) GENERATED ALWAYS AS (CASE WHEN lat IS NULL '
      'OR lon IS NULL THEN NULL ELSE '
      'ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END) STORED';
    EXECUTE 'CREATE INDEX IF NOT EXISTS vehicles_location_gist '
      'ON vehicles USING gist (location)';
  END IF;
END
$postgis$`;

/** The fleet database's migrations, in order. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "seed_vehicles",
    // seed-schema.md section 3.1, verbatim. IF NOT EXISTS: the seed's own
    // tools may have created it already.
    sql: `
CREATE TABLE IF NOT EXISTS vehicles (
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
);`,
  },
  {
    version: 2,
    name: "vehicles_device_and_event_key",
    // Nullable: rows inserted by other tools have neither. A plain UNIQUE
    // index allows many NULLs and is what ON CONFLICT (event_key) infers.
    sql: `
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS device_id TEXT;
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS event_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS vehicles_event_key_key ON vehicles (event_key);`,
  },
  {
    version: 3,
    name: "alerts",
    // No foreign key from vehicles.alert_id: deleting a plate of interest
    // must not make a vehicle's event undeliverable.
    sql: `
CREATE TABLE IF NOT EXISTS alerts (
    id SERIAL PRIMARY KEY,
    plate TEXT NOT NULL,
    match TEXT NOT NULL DEFAULT 'exact' CHECK (match IN ('exact', 'fuzzy1')),
    note TEXT,
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS alert_id INTEGER;
CREATE INDEX IF NOT EXISTS vehicles_alert_id_idx ON vehicles (alert_id)
    WHERE alert_id IS NOT NULL;`,
  },
  {
    version: 4,
    name: "search_indexes",
    sql: `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS vehicles_ts_idx ON vehicles (ts);
CREATE INDEX IF NOT EXISTS vehicles_final_plate_trgm_idx
    ON vehicles USING gin (final_plate gin_trgm_ops);
CREATE INDEX IF NOT EXISTS vehicles_car_bbox_idx
    ON vehicles USING gin (car_bbox jsonb_path_ops);
CREATE INDEX IF NOT EXISTS vehicles_plate_bbox_idx
    ON vehicles USING gin (plate_bbox jsonb_path_ops);`,
  },
  {
    version: 5,
    name: "vehicles_location",
    // Issue 13. Devices always send lat/lon (so one INSERT serves both kinds
    // of server); where PostGIS is there, `location` is derived from them
    // (a stored generated column) with a GiST index for ST_DWithin.
    sql: `
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS lat DOUBLE PRECISION;
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS lon DOUBLE PRECISION;
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS speed_kmh DOUBLE PRECISION;
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS heading_deg DOUBLE PRECISION;
ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS time_source TEXT;
CREATE INDEX IF NOT EXISTS vehicles_lat_lon_idx ON vehicles (lat, lon)
    WHERE lat IS NOT NULL;
${POSTGIS_LOCATION_SQL}`,
  },
  {
    version: 6,
    name: "vehicle_evidence",
    // Issue 13. One row per picture of an event, keyed by the event: the
    // unique (event_key, kind) makes a re-send a no-op, and the foreign key
    // lets a picture arrive only with or after its event (and go with it).
    sql: `
CREATE TABLE IF NOT EXISTS vehicle_evidence (
    id BIGSERIAL PRIMARY KEY,
    event_key TEXT NOT NULL
        REFERENCES vehicles (event_key) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('plate', 'vehicle')),
    content_type TEXT NOT NULL,
    data BYTEA NOT NULL,
    device_id TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (event_key, kind)
);`,
  },
  {
    version: 7,
    name: "video_metadata_and_tracks",
    // Issue 13 and seed-schema.md section 6 ("tracks", "video_metadata").
    // Joined to vehicles by video_id (and track_id); device_id is part of
    // each unique key so the tables can be distributed by device.
    sql: `
CREATE TABLE IF NOT EXISTS video_metadata (
    id BIGSERIAL PRIMARY KEY,
    device_id TEXT NOT NULL,
    video_id TEXT NOT NULL,
    file_name TEXT,
    start_ts TIMESTAMPTZ,
    duration_s DOUBLE PRECISION,
    width INTEGER,
    height INTEGER,
    fps DOUBLE PRECISION,
    time_source TEXT,
    gps_source TEXT,
    gps_fixes INTEGER,
    gps_first_lat DOUBLE PRECISION,
    gps_first_lon DOUBLE PRECISION,
    gps_last_lat DOUBLE PRECISION,
    gps_last_lon DOUBLE PRECISION,
    status TEXT NOT NULL,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (device_id, video_id)
);
CREATE INDEX IF NOT EXISTS video_metadata_video_id_idx ON video_metadata (video_id);
CREATE INDEX IF NOT EXISTS video_metadata_start_ts_idx ON video_metadata (start_ts);
CREATE TABLE IF NOT EXISTS tracks (
    id BIGSERIAL PRIMARY KEY,
    device_id TEXT NOT NULL,
    video_id TEXT NOT NULL,
    track_id INTEGER NOT NULL,
    first_seen TIMESTAMPTZ,
    last_seen TIMESTAMPTZ,
    first_frame INTEGER,
    last_frame INTEGER,
    frames INTEGER,
    reads INTEGER,
    final_plate TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (device_id, video_id, track_id)
);
CREATE INDEX IF NOT EXISTS tracks_video_track_idx ON tracks (video_id, track_id);`,
  },
];

/**
 * The schema version this build needs: the last of {@linkcode PG_MIGRATIONS}.
 *
 * @returns The highest migration version.
 */
export function latestPgVersion(): number {
  return PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
}

/** Options for {@linkcode migratePg}. */
export interface MigratePgOptions {
  /** Migrations to apply, in order. @default {PG_MIGRATIONS} */
  migrations?: readonly PgMigration[];
  /** Where "applied migration" lines go. @default {the module `log`} */
  log?: Logger;
}

/** What {@linkcode migratePg} did. */
export interface MigratePgResult {
  /** Versions this call applied. */
  applied: number[];
  /** Highest version recorded afterwards. */
  current: number;
}

/** SQL of `schema_migrations`. */
const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

async function appliedVersions(sql: PgSql): Promise<Set<number>> {
  const [exists] = await sql<{ t: string | null }[]>`
    SELECT to_regclass('schema_migrations')::text AS t`;
  if (exists?.t === null || exists?.t === undefined) return new Set();
  const rows = await sql<{ version: number }[]>`
    SELECT version FROM schema_migrations`;
  return new Set(rows.map((r) => r.version));
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`. Each one
 * is ONE multi-statement query, which Postgres runs as one transaction:
 * take a transaction-scoped advisory lock, claim the version by inserting
 * its `schema_migrations` row, run the migration. When another migrator got
 * there first the claim fails with a unique violation, the transaction rolls
 * back, and this call moves on: concurrent migrators all succeed.
 * (`sql.begin()` is avoided: see `insertRows` in sync.ts.)
 *
 * @example Migrate
 * ```ts ignore
 * const { applied, current } = await migratePg(sql);
 * ```
 * @param sql Client connected to the fleet database.
 * @param options Migrations and logger.
 * @returns Versions applied by this call and the current version.
 */
export async function migratePg(
  sql: PgSql,
  options: MigratePgOptions = {},
): Promise<MigratePgResult> {
  const { migrations = PG_MIGRATIONS, log = defaultLog } = options;
  const applied: number[] = [];
  const done = await appliedVersions(sql);
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version < 1) {
      throw new RangeError(
        `Cannot migrate as a migration version must be an integer >= 1: current value is ${m.version}`,
      );
    }
    if (done.has(m.version)) continue;
    const script = [
      `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`,
      SCHEMA_MIGRATIONS_DDL,
      `INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${
        quoteLiteral(m.name)
      })`,
      m.sql,
    ].join(";\n");
    try {
      await sql.unsafe(script);
    } catch (err) {
      const e = err as { code?: string; constraint_name?: string };
      if (
        e.code === "23505" && e.constraint_name === "schema_migrations_pkey"
      ) {
        continue; // another migrator applied it while we waited for the lock
      }
      throw err;
    }
    applied.push(m.version);
    log.info("applied postgres migration", {
      version: m.version,
      name: m.name,
    });
  }
  const [row] = await sql<{ current: number | null }[]>`
    SELECT max(version) AS current FROM schema_migrations`;
  return { applied, current: row?.current ?? 0 };
}

/**
 * Adds the PostGIS `location` column when PostGIS has become available
 * since migration 5 (see {@linkcode POSTGIS_LOCATION_SQL}); `migrate` calls
 * it after {@linkcode migratePg}.
 *
 * @param sql Client connected to the fleet database, as its owner.
 * @returns True when `vehicles.location` exists afterwards.
 */
export async function ensurePostgisLocation(sql: PgSql): Promise<boolean> {
  if (await pgSchemaVersion(sql) < 5) return false;
  if (await hasLocationColumn(sql)) return true;
  // One multi-statement query is one transaction: the lock serialises
  // concurrent migrators as in migratePg.
  await sql.unsafe(
    `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY});\n${POSTGIS_LOCATION_SQL}`,
  );
  return await hasLocationColumn(sql);
}

/**
 * Whether `vehicles` has the PostGIS `location` column (else searches by
 * place use lat/lon).
 *
 * @param sql Client connected to the fleet database.
 * @returns True when it has.
 */
export async function hasLocationColumn(sql: PgSql): Promise<boolean> {
  const rows = await sql<{ one: number }[]>`
    SELECT 1 AS one FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'vehicles'
      AND column_name = 'location'`;
  return rows.length > 0;
}

/**
 * The version recorded in `schema_migrations`, or 0 when the table is
 * missing (for `status`).
 *
 * @param sql Client connected to the fleet database.
 * @returns The highest applied version.
 */
export async function pgSchemaVersion(sql: PgSql): Promise<number> {
  const versions = await appliedVersions(sql);
  return versions.size === 0 ? 0 : Math.max(...versions);
}

/**
 * Returns `url` pointing at database `name` instead of its own.
 *
 * @example Switching database
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(withDatabase("postgres://u@h:5432/postgres", "dashcam_final"), "postgres://u@h:5432/dashcam_final");
 * ```
 * @param url Connection URL.
 * @param name Database name.
 * @returns The new URL.
 */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.href;
}

/** Options for {@linkcode ensureDatabase}. */
export type EnsureDatabaseOptions = Omit<ConnectPgOptions, "url" | "database">;

/**
 * Creates database `name` when it does not exist. CREATE DATABASE cannot run
 * in a transaction, so this uses its own short-lived client on `adminUrl`
 * (any database the user may connect to, usually `postgres`). A concurrent
 * creator winning the race is not an error.
 *
 * @example Ensure the fleet database
 * ```ts ignore
 * await ensureDatabase("postgres://admin@db:5432/postgres", "dashcam_final");
 * ```
 * @param adminUrl URL of a database to connect to for the check.
 * @param name Database to create. @default {"dashcam_final"}
 * @param options Password file, TLS, timeouts, logger.
 * @returns True when this call created it.
 */
export async function ensureDatabase(
  adminUrl: string,
  name: string = DEFAULT_DATABASE,
  options: EnsureDatabaseOptions = {},
): Promise<boolean> {
  if (name.length === 0 || name.length > 63) {
    throw new RangeError(
      `Cannot create the database as its name must be 1-63 characters: current value is ${
        JSON.stringify(name)
      }`,
    );
  }
  const log = options.log ?? defaultLog;
  const sql = connectPg({ ...options, url: adminUrl, max: 1 });
  try {
    const found = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (found.length > 0) return false;
    try {
      await sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      // 42P04 duplicate_database; 23505 when two creators race on the catalog.
      const code = (err as { code?: string }).code;
      if (code === "42P04" || code === "23505") return false;
      throw err;
    }
    log.info("created postgres database", { database: name });
    return true;
  } finally {
    await closePg(sql, 2000);
  }
}

/** Quotes a SQL string literal ('it''s'). */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Quotes a SQL identifier (`my"db` becomes `"my""db"`).
 *
 * @param name A database, role or table name.
 * @returns The quoted identifier.
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
