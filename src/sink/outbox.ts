/**
 * The local durable outbox: every final event is written here first (its own
 * SQLite file, `synchronous=FULL`, so an event survives a power cut), and the
 * sync loop copies unsent rows to the fleet Postgres. Also keeps the local
 * copy of the plates of interest and the sync health.
 *
 * @module
 */
import {
  type DatabaseSync,
  type SQLInputValue,
  type StatementSync,
} from "node:sqlite";
import {
  type Box,
  type ClipRecord,
  closeForReaders,
  type FinalEvent,
  migrateSqlite,
  type SqliteMigration,
  type TrackRecord,
  transaction,
} from "../shared/mod.ts";
import { openDatabaseFile } from "../shared/sqlite_file.ts";
import { boundingBox, haversineM } from "../shared/mod.ts";
import { vehicleCropPath } from "../shared/mod.ts";
import { log as defaultLog, type Logger } from "../log/mod.ts";
import {
  editDistance,
  hasWildcard,
  normalizePlate,
  plateLikePattern,
} from "./plate_match.ts";

/** One numbered migration of the outbox (recorded in `schema_migrations`). */
export type OutboxMigration = SqliteMigration;

/** The outbox's migrations, in order. */
export const OUTBOX_MIGRATIONS: readonly OutboxMigration[] = [
  {
    version: 1,
    name: "events_alerts_sync_state",
    sql: `
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key TEXT NOT NULL UNIQUE,
    video_id TEXT NOT NULL,
    track_id INTEGER,
    frame_idx INTEGER NOT NULL,
    ts TEXT NOT NULL,
    final_plate TEXT NOT NULL,
    plate_confidence REAL NOT NULL,
    car_bbox TEXT NOT NULL,
    plate_bbox TEXT NOT NULL,
    evidence TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    sync_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    rejected_at TEXT,
    alert_id INTEGER,
    alert_pushed_id INTEGER
);
CREATE INDEX events_pending ON events (id) WHERE sent_at IS NULL AND rejected_at IS NULL;
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_plate ON events (final_plate);
CREATE INDEX events_alert_unpushed ON events (id)
    WHERE alert_id IS NOT NULL AND alert_pushed_id IS NOT alert_id;
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    plate TEXT NOT NULL,
    match TEXT NOT NULL CHECK (match IN ('exact', 'fuzzy1')),
    note TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT
);`,
  },
  {
    version: 2,
    name: "rejected_retry",
    // Rows Postgres refused are offered again later (see rejected_retry.ts):
    // `reject_count` refusals so far, `next_retry_at` when (NULL: not again
    // until a forced retry).
    sql: `
ALTER TABLE events ADD COLUMN reject_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN next_retry_at TEXT;
CREATE INDEX events_rejected ON events (id)
    WHERE rejected_at IS NOT NULL AND sent_at IS NULL;`,
  },
  {
    version: 3,
    name: "gps_location",
    // Issue 13: where and at which speed/heading the vehicle was seen, and
    // which clock \`ts\` comes from. NULL when the clip has no usable GPS.
    sql: `
ALTER TABLE events ADD COLUMN lat REAL;
ALTER TABLE events ADD COLUMN lon REAL;
ALTER TABLE events ADD COLUMN speed_kmh REAL;
ALTER TABLE events ADD COLUMN heading_deg REAL;
ALTER TABLE events ADD COLUMN time_source TEXT;
CREATE INDEX events_lat_lon ON events (lat, lon) WHERE lat IS NOT NULL;`,
  },
  {
    version: 4,
    name: "evidence_sync",
    // Issue 13: the event's pictures go to the fleet's vehicle_evidence
    // after the event. NULL: not yet; 1: in Postgres; 0: not sent (kept on
    // the box by config, or the file is gone).
    sql: `
ALTER TABLE events ADD COLUMN evidence_synced INTEGER;
CREATE INDEX events_evidence_unsynced ON events (id)
    WHERE evidence_synced IS NULL AND sent_at IS NOT NULL
      AND evidence IS NOT NULL;`,
  },
  {
    version: 5,
    name: "clips_and_tracks",
    // Issue 13: one row per finished clip and per vehicle track, for the
    // fleet's video_metadata and tracks (JSON of ClipRecord / TrackRecord),
    // sent like events.
    sql: `
CREATE TABLE clips (
    video_id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE TABLE tracks (
    video_id TEXT NOT NULL,
    track_id INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (video_id, track_id)
);
CREATE INDEX clips_unsent ON clips (created_at) WHERE sent_at IS NULL;`,
  },
  {
    version: 6,
    name: "clip_name_time_camera",
    // Issue 11 "output people can use": the clip's file name as the camera
    // wrote it, the best reading's time in that clip (seconds) and the
    // camera id (its folder; the key of the cameras config section, whose
    // time zone the terminal shows times in). NULL on older rows.
    sql: `
ALTER TABLE events ADD COLUMN clip TEXT;
ALTER TABLE events ADD COLUMN clip_time_s REAL;
ALTER TABLE events ADD COLUMN camera TEXT;`,
  },
];

/** Options for {@linkcode Outbox.open}. */
export interface OutboxOptions {
  /** Milliseconds SQLite waits on a lock before SQLITE_BUSY. @default {5000} */
  busyTimeoutMs?: number;
  /** Clock for `created_at` and error times (tests inject one). @default {() => new Date()} */
  now?: () => Date;
  /** Open read-only (`status`): never creates, migrates or sets aside; a damaged file throws. @default {false} */
  readOnly?: boolean;
  /**
   * The data dir was used before (e.g. `pipeline.db` exists): a missing
   * outbox is then reported loudly, as unsynced events may be lost.
   * @default {false}
   */
  expectExisting?: boolean;
  /** Where the loud lines go. @default {the process logger} */
  log?: Logger;
}

/** An event as the outbox keeps it. */
export interface OutboxEvent extends FinalEvent {
  /** Outbox row id (increasing; the sync order). */
  id: number;
  /** When the event entered the outbox (ISO). */
  createdAt: string;
  /** When Postgres confirmed it (ISO), or null while pending. */
  sentAt: string | null;
  /** Failed delivery attempts. */
  syncAttempts: number;
  /** Last delivery error, if any. */
  lastError: string | null;
  /** When Postgres last refused the row (ISO), or null while not set aside. */
  rejectedAt: string | null;
  /** Id of the plate of interest it matched, or null. */
  alertId: number | null;
  /** How many times Postgres refused it (restarts at a forced retry). */
  rejectCount: number;
}

/** A plate of interest, as kept locally. */
export interface AlertRow {
  /** Id in the fleet's `alerts` table. */
  id: number;
  /** Plate text (normalised on store). */
  plate: string;
  /** "exact": same text; "fuzzy1": within one edit. */
  match: "exact" | "fuzzy1";
  /** Free text shown with a hit. */
  note: string | null;
  /** When this copy was stored (ISO). @default {now} */
  updatedAt?: string;
}

/** Counts and sync health, for `status`. */
export interface OutboxStats {
  /** All events ever stored (minus pruned ones). */
  total: number;
  /** Waiting to be sent. */
  pending: number;
  /** Confirmed by Postgres. */
  sent: number;
  /** Refused by Postgres and kept aside (retried later, see `nextRejectedRetryAt`). */
  rejected: number;
  /** Error of the oldest rejected event, or null when none. */
  firstRejectedError: string | null;
  /** Earliest automatic retry of a rejected event (ISO), or null when none is due to be retried. */
  nextRejectedRetryAt: string | null;
  /** Events that matched a plate of interest. */
  alerted: number;
  /** `created_at` of the oldest pending event, or null. */
  oldestPendingAt: string | null;
  /** Plates of interest held locally. */
  alerts: number;
  /** Last successful sync pass (ISO), or null. */
  lastSuccessAt: string | null;
  /** Last sync error (one line), or null. */
  lastError: string | null;
  /** When the last sync error happened (ISO), or null. */
  lastErrorAt: string | null;
}

/** Filter of {@linkcode Outbox.query}. */
export interface OutboxQuery {
  /** Plate pattern: `*`/`?` wildcards (whole plate), else a substring. */
  plate?: string;
  /** With `plate` (no wildcards): match plates within this many edits (1 or 2). @default {0} */
  fuzzy?: number;
  /** Only events with `ts >=` this ISO time. */
  since?: string;
  /** Only events with `ts <` this ISO time. */
  until?: string;
  /** Only events within `near.radiusM` metres of `near` (bounding-box prefilter, then haversine). */
  near?: { lat: number; lon: number; radiusM: number };
  /** Most rows returned, newest first. @default {100} */
  limit?: number;
}

/** A matched event whose alert id Postgres has not seen yet. */
export interface UnpushedAlert {
  /** Outbox row id. */
  id: number;
  /** The event's key. */
  eventKey: string;
  /** The alert id to store. */
  alertId: number;
}

interface EventRow {
  id: number;
  event_key: string;
  video_id: string;
  track_id: number | null;
  frame_idx: number;
  ts: string;
  final_plate: string;
  plate_confidence: number;
  car_bbox: string;
  plate_bbox: string;
  evidence: string | null;
  created_at: string;
  sent_at: string | null;
  sync_attempts: number;
  last_error: string | null;
  rejected_at: string | null;
  alert_id: number | null;
  reject_count: number;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  heading_deg: number | null;
  time_source: string | null;
  clip: string | null;
  clip_time_s: number | null;
  camera: string | null;
}

const EVENT_COLUMNS = "id, event_key, video_id, track_id, frame_idx, ts, " +
  "final_plate, plate_confidence, car_bbox, plate_bbox, evidence, " +
  "created_at, sent_at, sync_attempts, last_error, rejected_at, alert_id, " +
  "reject_count, lat, lon, speed_kmh, heading_deg, time_source";

/**
 * The same columns for an outbox an older version wrote, opened read-only
 * (`status`, `vehicles` never migrate): the GPS columns read as NULL.
 */
const EVENT_COLUMNS_BEFORE_GPS = EVENT_COLUMNS.replace(
  "lat, lon, speed_kmh, heading_deg, time_source",
  "NULL AS lat, NULL AS lon, NULL AS speed_kmh, NULL AS heading_deg, " +
    "NULL AS time_source",
);

/** Columns of outbox migration 3 (NULL when an older version wrote a file opened read-only). */
const CLIP_COLUMNS = ", clip, clip_time_s, camera";
const NO_CLIP_COLUMNS = ", NULL AS clip, NULL AS clip_time_s, NULL AS camera";

function toEvent(row: EventRow): OutboxEvent {
  const event: OutboxEvent = {
    id: row.id,
    eventKey: row.event_key,
    videoId: row.video_id,
    trackId: row.track_id as number,
    frameIdx: row.frame_idx,
    ts: row.ts,
    finalPlate: row.final_plate,
    plateConfidence: row.plate_confidence,
    carBbox: JSON.parse(row.car_bbox) as Box,
    plateBbox: JSON.parse(row.plate_bbox) as Box,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    syncAttempts: row.sync_attempts,
    lastError: row.last_error,
    rejectedAt: row.rejected_at,
    alertId: row.alert_id,
    rejectCount: row.reject_count,
  };
  if (row.evidence !== null) event.evidence = row.evidence;
  if (row.lat !== null && row.lon !== null) {
    event.lat = row.lat;
    event.lon = row.lon;
  }
  if (row.speed_kmh !== null) event.speedKmh = row.speed_kmh;
  if (row.heading_deg !== null) event.headingDeg = row.heading_deg;
  if (row.time_source !== null) event.timeSource = row.time_source;
  if (row.clip != null) event.clip = row.clip;
  if (row.clip_time_s != null) event.clipTimeS = row.clip_time_s;
  if (row.camera != null) event.camera = row.camera;
  return event;
}

/**
 * Checks a `near` filter: latitude in -90..90, longitude in -180..180,
 * radius a finite number of metres > 0.
 *
 * @param near The filter.
 * @param action What is refused, for the message.
 * @throws {RangeError} On a value out of range.
 */
export function checkNear(
  near: { lat: number; lon: number; radiusM: number },
  action: string,
): void {
  const bad = (name: string, want: string, value: number) =>
    new RangeError(
      `Cannot ${action} as '${name}' must be ${want}: current value is ${value}`,
    );
  if (!(Math.abs(near.lat) <= 90)) throw bad("lat", "in -90..90", near.lat);
  if (!(Math.abs(near.lon) <= 180)) throw bad("lon", "in -180..180", near.lon);
  if (!(near.radiusM > 0) || !Number.isFinite(near.radiusM)) {
    throw bad("radius", "a number of metres > 0", near.radiusM);
  }
}

function checkPositiveInt(value: number, name: string, action: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be an integer >= 1: current value is ${value}`,
    );
  }
}

/**
 * Applies the outbox migrations not yet recorded in `schema_migrations`, one
 * transaction each (safe when two processes open the file at once).
 *
 * @param db The open outbox database.
 * @param migrations Migrations to apply, in order.
 * @returns The versions applied.
 */
export function migrateOutbox(
  db: DatabaseSync,
  migrations: readonly OutboxMigration[] = OUTBOX_MIGRATIONS,
): number[] {
  return migrateSqlite(db, migrations, { ledger: "schema_migrations" });
}

/** The local durable outbox (one SQLite file). */
export class Outbox {
  /** The underlying database (for tests and `status`). */
  readonly db: DatabaseSync;
  #now: () => Date;
  #log: Logger;
  #statements = new Map<string, StatementSync>();

  private constructor(db: DatabaseSync, now: () => Date, log: Logger) {
    this.db = db;
    this.#now = now;
    this.#log = log;
  }

  /**
   * Opens the outbox file and applies its migrations. The file is created
   * only when absent; an existing file that is damaged (zero bytes, not a
   * database, failing `PRAGMA quick_check`) is never written over: it is
   * renamed to `outbox.db.damaged-<UTC stamp>` with its `-wal`/`-shm`, one
   * error line says so, and a fresh outbox keeps new events.
   *
   * @example Open, add, count
   * ```ts ignore
   * const outbox = Outbox.open(`${dataDir}/outbox.db`);
   * outbox.add(event);
   * outbox.pendingCount(); // 1
   * ```
   * @param path File path, normally `DATA_DIR/outbox.db`.
   * @param options Busy timeout, clock, read-only and logger.
   * @returns The open outbox.
   * @throws {DamagedDatabaseError} Read-only, when the file is damaged.
   * @throws {Deno.errors.NotFound} Read-only, when the file is absent.
   */
  static open(path: string, options: OutboxOptions = {}): Outbox {
    const {
      busyTimeoutMs = 5000,
      now = () => new Date(),
      readOnly = false,
      expectExisting = false,
      log = defaultLog,
    } = options;
    const opened = openDatabaseFile(path, {
      label: "outbox",
      readOnly,
      setAside: !readOnly,
      busyTimeoutMs,
      now,
    });
    const db = opened.db;
    if (opened.damaged) {
      log.error(
        `${opened.damaged.error.message}; set aside as ${opened.damaged.asidePath} ` +
          `(with its -wal/-shm): keep that file, its unsynced events can be ` +
          `recovered with sqlite3 .recover; a new empty outbox takes new events`,
      );
    } else if (opened.created && expectExisting) {
      log.error(
        `The outbox ${path} was missing although this data dir was used ` +
          `before: events not yet synced may be lost; a new empty outbox ` +
          `takes new events (restore the file from a backup if there is one)`,
      );
    }
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    if (!readOnly) {
      db.exec("PRAGMA journal_mode = WAL");
      // Final events must survive a power cut: fsync the WAL on every commit.
      db.exec("PRAGMA synchronous = FULL");
    }
    db.function("plate_distance", { deterministic: true }, (a, b) => {
      return editDistance(String(a), String(b));
    });
    const outbox = new Outbox(db, now, log);
    if (!readOnly) {
      migrateOutbox(db);
      outbox.checkpoint();
    }
    return outbox;
  }

  /**
   * Copies every committed page of the WAL into the main file
   * (`PRAGMA wal_checkpoint(FULL)`), so the main file alone holds every
   * committed event: a `-wal` lost in a power cut then loses nothing
   * committed before. Done after each committed event batch; a checkpoint
   * that a reader blocks, or that fails (disk full), is retried after the
   * next batch: the events are committed either way, so it never throws.
   */
  checkpoint(): void {
    try {
      this.#prepare("PRAGMA wal_checkpoint(FULL)").get();
    } catch (err) {
      this.#log.warn(
        "outbox WAL checkpoint failed; retried after the next event",
        {
          file: this.db.location() ?? undefined,
          error: (err as Error).message.split("\n")[0],
        },
      );
    }
  }

  /**
   * Stores a final event unless one with the same `eventKey` is there.
   *
   * @param event The event.
   * @returns True when the event is new.
   */
  add(event: FinalEvent): boolean {
    const result = this.#prepare(
      `INSERT OR IGNORE INTO events (event_key, video_id, track_id, frame_idx,
         ts, final_plate, plate_confidence, car_bbox, plate_bbox, evidence,
         created_at, lat, lon, speed_kmh, heading_deg, time_source, clip,
         clip_time_s, camera)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      event.eventKey,
      event.videoId,
      event.trackId ?? null,
      event.frameIdx,
      event.ts,
      event.finalPlate,
      event.plateConfidence,
      JSON.stringify(event.carBbox),
      JSON.stringify(event.plateBbox),
      event.evidence ?? null,
      this.#now().toISOString(),
      event.lat ?? null,
      event.lon ?? null,
      event.speedKmh ?? null,
      event.headingDeg ?? null,
      event.timeSource ?? null,
      event.clip ?? null,
      event.clipTimeS ?? null,
      event.camera ?? null,
    );
    const added = Number(result.changes) === 1;
    if (added && !this.db.isTransaction) this.checkpoint();
    return added;
  }

  /**
   * Stores several events in one transaction (one fsync), skipping keys
   * already stored.
   *
   * @param events The events.
   * @returns How many were new.
   */
  addMany(events: Iterable<FinalEvent>): number {
    const added = transaction(this.db, () => {
      let added = 0;
      for (const event of events) if (this.add(event)) added += 1;
      return added;
    });
    if (added > 0) this.checkpoint();
    return added;
  }

  /** Number of events neither sent nor rejected. */
  pendingCount(): number {
    const row = this.#prepare(
      "SELECT count(*) AS n FROM events WHERE sent_at IS NULL AND rejected_at IS NULL",
    ).get() as { n: number };
    return row.n;
  }

  /**
   * The next pending events with `id > afterId`, oldest first. Call again
   * with the last id to walk the backlog without loading it all.
   *
   * @param limit Most rows returned.
   * @param afterId Only rows after this id. @default {0}
   * @returns Up to `limit` pending events.
   */
  nextBatch(limit: number, afterId = 0): OutboxEvent[] {
    checkPositiveInt(limit, "limit", "read the next outbox batch");
    const rows = this.#prepare(
      `SELECT ${this.#columns()} FROM events
       WHERE sent_at IS NULL AND rejected_at IS NULL AND id > ?
       ORDER BY id LIMIT ?`,
    ).all(afterId, limit) as unknown as EventRow[];
    return rows.map(toEvent);
  }

  /**
   * Marks events as confirmed by Postgres.
   *
   * @param ids Outbox row ids.
   * @param at Confirmation time (ISO).
   */
  markSent(ids: readonly number[], at: string): void {
    if (ids.length === 0) return;
    this.#prepare(
      `UPDATE events SET sent_at = ?, last_error = NULL
       WHERE id IN (SELECT value FROM json_each(?)) AND sent_at IS NULL`,
    ).run(at, JSON.stringify(ids));
  }

  /**
   * Sets an event aside: Postgres refused it. It stops blocking the others,
   * stays for inspection, and is offered again at `nextRetryAt`
   * ({@linkcode Outbox.requeueDueRejected}).
   *
   * @param id Outbox row id.
   * @param error The server's message.
   * @param nextRetryAt When to offer it again (ISO), or null for not until a forced retry. @default {null}
   */
  markRejected(
    id: number,
    error: string,
    nextRetryAt: string | null = null,
  ): void {
    this.#prepare(
      `UPDATE events SET rejected_at = ?, last_error = ?, next_retry_at = ?,
         sync_attempts = sync_attempts + 1, reject_count = reject_count + 1
       WHERE id = ?`,
    ).run(this.#now().toISOString(), error, nextRetryAt, id);
  }

  /**
   * Puts every rejected event back in the queue now (after the server or
   * the data was fixed) and restarts its automatic retry count.
   *
   * @returns How many were re-queued.
   */
  retryRejected(): number {
    const result = this.#prepare(
      `UPDATE events SET rejected_at = NULL, next_retry_at = NULL, reject_count = 0
       WHERE rejected_at IS NOT NULL AND sent_at IS NULL`,
    ).run();
    return Number(result.changes);
  }

  /**
   * Puts back in the queue the rejected events whose `next_retry_at` has
   * come (their refusal count is kept, so the next delay doubles).
   *
   * @param at The current time (ISO).
   * @returns How many were re-queued.
   */
  requeueDueRejected(at: string): number {
    const result = this.#prepare(
      `UPDATE events SET rejected_at = NULL, next_retry_at = NULL
       WHERE rejected_at IS NOT NULL AND sent_at IS NULL
         AND next_retry_at IS NOT NULL
         AND julianday(next_retry_at) <= julianday(?)`,
    ).run(at);
    return Number(result.changes);
  }

  /**
   * Records a failed delivery attempt of events that stay pending.
   *
   * @param ids Outbox row ids.
   * @param error One-line reason.
   */
  markFailed(ids: readonly number[], error: string): void {
    if (ids.length === 0) return;
    this.#prepare(
      `UPDATE events SET sync_attempts = sync_attempts + 1, last_error = ?
       WHERE id IN (SELECT value FROM json_each(?))`,
    ).run(error, JSON.stringify(ids));
  }

  /**
   * Records that a sync pass failed.
   *
   * @param message One-line reason (no secrets).
   */
  recordSyncError(message: string): void {
    transaction(this.db, () => {
      this.#setState("last_error", message);
      this.#setState("last_error_at", this.#now().toISOString());
    });
  }

  /**
   * Records that a sync pass succeeded.
   *
   * @param at Time of the pass (ISO).
   */
  recordSyncSuccess(at: string): void {
    this.#setState("last_success_at", at);
  }

  #eventColumns: string | null = null;

  #columns(): string {
    this.#eventColumns ??=
      (this.#hasColumn("events", "time_source")
        ? EVENT_COLUMNS
        : EVENT_COLUMNS_BEFORE_GPS) +
      (this.#hasColumn("events", "clip") ? CLIP_COLUMNS : NO_CLIP_COLUMNS);
    return this.#eventColumns;
  }

  #hasColumn(table: string, column: string): boolean {
    return this.#prepare(
      "SELECT 1 AS one FROM pragma_table_info(?) WHERE name = ?",
    ).get(table, column) !== undefined;
  }

  /** Counts and sync health, for `status`. */
  stats(): OutboxStats {
    const counts = this.#prepare(
      `SELECT count(*) AS total,
         coalesce(sum(sent_at IS NULL AND rejected_at IS NULL), 0) AS pending,
         coalesce(sum(sent_at IS NOT NULL), 0) AS sent,
         coalesce(sum(rejected_at IS NOT NULL AND sent_at IS NULL), 0) AS rejected,
         coalesce(sum(alert_id IS NOT NULL), 0) AS alerted
       FROM events`,
    ).get() as {
      total: number;
      pending: number;
      sent: number;
      rejected: number;
      alerted: number;
    };
    const oldest = this.#prepare(
      `SELECT created_at FROM events
       WHERE sent_at IS NULL AND rejected_at IS NULL ORDER BY id LIMIT 1`,
    ).get() as { created_at: string } | undefined;
    const alerts = this.#prepare("SELECT count(*) AS n FROM alerts")
      .get() as { n: number };
    // `status` opens read-only and never migrates: an outbox the daemon of
    // an older version wrote has no retry column yet (the next start adds it).
    const retryColumn = this.#hasColumn("events", "next_retry_at")
      ? "(SELECT min(next_retry_at) FROM events WHERE rejected_at IS NOT NULL AND sent_at IS NULL)"
      : "NULL";
    const rejected = this.#prepare(
      `SELECT (SELECT last_error FROM events
                WHERE rejected_at IS NOT NULL AND sent_at IS NULL
                ORDER BY id LIMIT 1) AS first_error,
              ${retryColumn} AS next_retry`,
    ).get() as { first_error: string | null; next_retry: string | null };
    return {
      total: counts.total,
      pending: counts.pending,
      sent: counts.sent,
      rejected: counts.rejected,
      firstRejectedError: rejected.first_error,
      nextRejectedRetryAt: rejected.next_retry,
      alerted: counts.alerted,
      oldestPendingAt: oldest?.created_at ?? null,
      alerts: alerts.n,
      lastSuccessAt: this.#getState("last_success_at"),
      lastError: this.#getState("last_error"),
      lastErrorAt: this.#getState("last_error_at"),
    };
  }

  /**
   * Searches stored events (sent or not), newest `ts` first.
   *
   * @param filter Plate pattern or fuzzy plate, time range, limit.
   * @returns Matching events.
   * @throws {TypeError} When `fuzzy` is combined with a wildcard pattern.
   */
  query(filter: OutboxQuery = {}): OutboxEvent[] {
    const { plate, fuzzy = 0, since, until, near, limit = 100 } = filter;
    checkPositiveInt(limit, "limit", "search the outbox");
    if (![0, 1, 2].includes(fuzzy)) {
      throw new RangeError(
        `Cannot search the outbox as 'fuzzy' must be 0, 1 or 2: current value is ${fuzzy}`,
      );
    }
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (plate !== undefined) {
      if (fuzzy > 0) {
        if (hasWildcard(plate)) {
          throw new TypeError(
            `Cannot search the outbox as 'fuzzy' needs a plain plate, not a pattern: current value is ${
              JSON.stringify(plate)
            }`,
          );
        }
        const target = normalizePlate(plate);
        where.push(
          "length(final_plate) BETWEEN ? AND ?",
          "plate_distance(final_plate, ?) <= ?",
        );
        params.push(target.length - fuzzy, target.length + fuzzy);
        params.push(target, fuzzy);
      } else {
        where.push("final_plate LIKE ?");
        params.push(plateLikePattern(plate));
      }
    }
    if (since !== undefined) {
      where.push("julianday(ts) >= julianday(?)");
      params.push(since);
    }
    if (until !== undefined) {
      where.push("julianday(ts) < julianday(?)");
      params.push(until);
    }
    if (near !== undefined) {
      checkNear(near, "search the outbox");
      const box = boundingBox(near, near.radiusM);
      where.push("lat BETWEEN ? AND ?", "lon BETWEEN ? AND ?");
      params.push(box.minLat, box.maxLat, box.minLon, box.maxLon);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    if (near === undefined) {
      params.push(limit);
      const rows = this.#prepare(
        `SELECT ${this.#columns()} FROM events ${clause}
         ORDER BY julianday(ts) DESC, id DESC LIMIT ?`,
      ).all(...params) as unknown as EventRow[];
      return rows.map(toEvent);
    }
    // The box (index on lat, lon) narrows the rows; haversine decides.
    const out: OutboxEvent[] = [];
    const stmt = this.#prepare(
      `SELECT ${this.#columns()} FROM events ${clause}
       ORDER BY julianday(ts) DESC, id DESC`,
    );
    for (const row of stmt.iterate(...params) as Iterable<EventRow>) {
      if (haversineM(near, { lat: row.lat!, lon: row.lon! }) > near.radiusM) {
        continue;
      }
      out.push(toEvent(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * The events of some clips, by clip then track.
   *
   * @param videoIds The clips.
   * @returns Their events.
   */
  eventsForVideos(videoIds: readonly string[]): OutboxEvent[] {
    const stmt = this.#prepare(
      `SELECT ${this.#columns()} FROM events WHERE video_id = ? ORDER BY track_id, id`,
    );
    return videoIds.flatMap((id) =>
      (stmt.all(id) as unknown as EventRow[]).map(toEvent)
    );
  }

  /**
   * Replaces the local plates of interest with `rows` (one transaction).
   *
   * @param rows The fleet's active alerts.
   */
  replaceAlerts(rows: readonly AlertRow[]): void {
    const at = this.#now().toISOString();
    transaction(this.db, () => {
      this.db.exec("DELETE FROM alerts");
      const insert = this.#prepare(
        "INSERT INTO alerts (id, plate, match, note, updated_at) VALUES (?, ?, ?, ?, ?)",
      );
      for (const row of rows) {
        insert.run(
          row.id,
          normalizePlate(row.plate),
          row.match,
          row.note,
          row.updatedAt ?? at,
        );
      }
    });
  }

  /** The local plates of interest, by id. */
  alerts(): AlertRow[] {
    const rows = this.#prepare(
      "SELECT id, plate, match, note, updated_at FROM alerts ORDER BY id",
    ).all() as unknown as Array<
      {
        id: number;
        plate: string;
        match: "exact" | "fuzzy1";
        note: string | null;
        updated_at: string;
      }
    >;
    return rows.map((r) => ({
      id: r.id,
      plate: r.plate,
      match: r.match,
      note: r.note,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * The plate of interest `plate` matches: an exact alert with the same
   * normalised text first, else a "fuzzy1" alert within one edit (lowest id
   * wins a tie).
   *
   * @param plate A read plate.
   * @returns The alert, or null.
   */
  matchAlert(plate: string): AlertRow | null {
    const target = normalizePlate(plate);
    if (target.length === 0) return null;
    const alerts = this.alerts();
    const exact = alerts.find((a) => a.plate === target);
    if (exact !== undefined) return exact;
    const near = alerts.find((a) =>
      a.match === "fuzzy1" && editDistance(a.plate, target) <= 1
    );
    return near ?? null;
  }

  /**
   * Records that event `eventKey` matched alert `alertId`; the next sync
   * pushes it to Postgres.
   *
   * @param eventKey The event's key.
   * @param alertId The alert's id.
   * @returns True when the event exists.
   */
  markAlert(eventKey: string, alertId: number): boolean {
    const result = this.#prepare(
      "UPDATE events SET alert_id = ? WHERE event_key = ?",
    ).run(alertId, eventKey);
    return Number(result.changes) === 1;
  }

  /**
   * Sent events whose alert id Postgres has not been given yet.
   *
   * @param limit Most rows returned.
   * @returns Up to `limit` rows, oldest first.
   */
  unpushedAlerts(limit: number): UnpushedAlert[] {
    checkPositiveInt(limit, "limit", "read unpushed alerts");
    const rows = this.#prepare(
      `SELECT id, event_key, alert_id FROM events
       WHERE alert_id IS NOT NULL AND alert_pushed_id IS NOT alert_id
         AND sent_at IS NOT NULL
       ORDER BY id LIMIT ?`,
    ).all(limit) as unknown as Array<
      { id: number; event_key: string; alert_id: number }
    >;
    return rows.map((r) => ({
      id: r.id,
      eventKey: r.event_key,
      alertId: r.alert_id,
    }));
  }

  /**
   * Records that Postgres holds these alert ids.
   *
   * @param rows The rows pushed, with the alert id that was pushed.
   */
  markAlertsPushed(rows: readonly UnpushedAlert[]): void {
    const update = this.#prepare(
      "UPDATE events SET alert_pushed_id = ? WHERE id = ?",
    );
    transaction(this.db, () => {
      for (const row of rows) update.run(row.alertId, row.id);
    });
  }

  /**
   * Stores a finished clip and its tracks (once: a clip already stored is
   * left as it is, so a replay after a crash changes nothing).
   *
   * @param clip The clip.
   * @param tracks Its vehicle tracks.
   * @returns True when the clip is new.
   */
  addClip(clip: ClipRecord, tracks: readonly TrackRecord[]): boolean {
    return transaction(this.db, () => {
      const r = this.#prepare(
        `INSERT OR IGNORE INTO clips (video_id, record, created_at)
         VALUES (?, ?, ?)`,
      ).run(clip.videoId, JSON.stringify(clip), this.#now().toISOString());
      if (Number(r.changes) !== 1) return false;
      const insert = this.#prepare(
        `INSERT OR IGNORE INTO tracks (video_id, track_id, record)
         VALUES (?, ?, ?)`,
      );
      for (const t of tracks) {
        insert.run(t.videoId, t.trackId, JSON.stringify(t));
      }
      return true;
    });
  }

  /**
   * Clips not yet in the fleet database, oldest first, with their tracks.
   *
   * @param limit Most clips returned.
   * @returns Up to `limit` clips.
   */
  unsentClips(
    limit: number,
  ): Array<{ clip: ClipRecord; tracks: TrackRecord[] }> {
    checkPositiveInt(limit, "limit", "read unsent clips");
    const clips = this.#prepare(
      `SELECT record FROM clips WHERE sent_at IS NULL
       ORDER BY created_at, video_id LIMIT ?`,
    ).all(limit) as Array<{ record: string }>;
    const tracks = this.#prepare(
      "SELECT record FROM tracks WHERE video_id = ? ORDER BY track_id",
    );
    return clips.map((c) => {
      const clip = JSON.parse(c.record) as ClipRecord;
      const rows = tracks.all(clip.videoId) as Array<{ record: string }>;
      return {
        clip,
        tracks: rows.map((t) => JSON.parse(t.record) as TrackRecord),
      };
    });
  }

  /**
   * Records that the fleet database holds these clips and their tracks.
   *
   * @param videoIds The clips.
   * @param at When (ISO).
   */
  markClipsSent(videoIds: readonly string[], at: string): void {
    if (videoIds.length === 0) return;
    this.#prepare(
      `UPDATE clips SET sent_at = ?
       WHERE video_id IN (SELECT value FROM json_each(?))`,
    ).run(at, JSON.stringify(videoIds));
  }

  /**
   * Sent events whose pictures have not been offered to the fleet's
   * `vehicle_evidence` yet, oldest first.
   *
   * @param limit Most rows returned.
   * @returns Up to `limit` events (with their `evidence` path, if any).
   */
  unsyncedEvidence(limit: number): OutboxEvent[] {
    checkPositiveInt(limit, "limit", "read unsynced evidence");
    const rows = this.#prepare(
      `SELECT ${this.#columns()} FROM events
       WHERE evidence_synced IS NULL AND sent_at IS NOT NULL
         AND evidence IS NOT NULL
       ORDER BY id LIMIT ?`,
    ).all(limit) as unknown as EventRow[];
    return rows.map(toEvent);
  }

  /**
   * Records what became of events' pictures: 1 in Postgres, 0 not sent
   * (kept on the box, or gone).
   *
   * @param ids Outbox row ids.
   * @param synced 1 or 0.
   */
  markEvidenceSynced(ids: readonly number[], synced: 0 | 1): void {
    if (ids.length === 0) return;
    this.#prepare(
      `UPDATE events SET evidence_synced = ?
       WHERE id IN (SELECT value FROM json_each(?))`,
    ).run(synced, JSON.stringify(ids));
  }

  /**
   * Deletes events confirmed by Postgres before `before` (the outbox is not
   * an archive; rejected and pending rows stay, and so do events whose
   * pictures have not been offered to the fleet yet).
   *
   * @param before ISO time; rows with `sent_at` earlier go.
   * @returns Rows deleted, and their evidence paths (the caller deletes the files).
   */
  pruneSent(before: string): { deleted: number; evidence: string[] } {
    const rows = this.#prepare(
      `DELETE FROM events WHERE sent_at IS NOT NULL
         AND julianday(sent_at) < julianday(?)
         AND (alert_id IS NULL OR alert_pushed_id IS alert_id)
         AND (evidence IS NULL OR evidence_synced IS NOT NULL)
       RETURNING evidence`,
    ).all(before) as Array<{ evidence: string | null }>;
    // Clips and their tracks follow the same retention.
    const gone = this.#prepare(
      `DELETE FROM clips WHERE sent_at IS NOT NULL
         AND julianday(sent_at) < julianday(?)
       RETURNING video_id`,
    ).all(before) as Array<{ video_id: string }>;
    const dropTracks = this.#prepare("DELETE FROM tracks WHERE video_id = ?");
    for (const g of gone) dropTracks.run(g.video_id);
    return {
      deleted: rows.length,
      evidence: rows.flatMap((r) =>
        r.evidence ? [r.evidence, vehicleCropPath(r.evidence)] : []
      ),
    };
  }

  /** Closes the database, leaving it readable by the `dashcam` group (see `closeForReaders`). */
  close(): void {
    closeForReaders(this.db);
    if (this.db.isOpen) this.db.close();
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #setState(key: string, value: string): void {
    this.#prepare(
      `INSERT INTO sync_state (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(key, value);
  }

  #getState(key: string): string | null {
    const row = this.#prepare("SELECT value FROM sync_state WHERE key = ?")
      .get(key) as { value: string | null } | undefined;
    return row?.value ?? null;
  }
}
