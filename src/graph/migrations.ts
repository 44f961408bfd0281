/**
 * Numbered migrations of `pipeline.db`. Migration 1 is the seed's schema,
 * verbatim; later ones only add columns, tables and indexes, so every seed
 * column keeps its name, type and meaning.
 *
 * @module
 */

import type { SqliteMigration } from "../shared/mod.ts";

/** One schema migration (applied by `migrateSqlite`, recorded in `user_version`). */
export type Migration = SqliteMigration;

/** The migrations of `pipeline.db`, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "seed_schema",
    sql: `
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT,
    payload TEXT,
    priority INTEGER,
    video_id TEXT,
    frame_idx INTEGER,
    track_id INTEGER,
    meta TEXT,
    dependencies TEXT,
    status TEXT
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER,
    result TEXT,
    handled INTEGER DEFAULT 0
);`,
  },
  {
    version: 2,
    name: "task_leases_and_retries",
    // status gains one terminal value, 'failed', next to the seed's
    // 'queued' and 'done'. A claimed task stays 'queued' (the seed's meaning:
    // queued until a worker finishes it); the lease columns say who holds it.
    sql: `
ALTER TABLE tasks ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 3;
ALTER TABLE tasks ADD COLUMN interrupts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN lease_owner TEXT;
ALTER TABLE tasks ADD COLUMN lease_until INTEGER;
ALTER TABLE tasks ADD COLUMN run_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN last_error TEXT;
ALTER TABLE tasks ADD COLUMN created_at INTEGER;
ALTER TABLE tasks ADD COLUMN finished_at INTEGER;
CREATE UNIQUE INDEX tasks_identity
    ON tasks (category, video_id, COALESCE(frame_idx, -1), COALESCE(track_id, -1));
CREATE INDEX tasks_claim ON tasks (category, status, run_at, id);
CREATE INDEX tasks_video ON tasks (video_id, status);
CREATE UNIQUE INDEX results_task ON results (task_id);
CREATE INDEX results_unhandled ON results (handled, id) WHERE handled = 0;`,
  },
  {
    version: 3,
    name: "video_metadata",
    sql: `
CREATE TABLE video_metadata (
    video_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER,
    sha256 TEXT,
    duration_s REAL,
    fps REAL,
    width INTEGER,
    height INTEGER,
    start_time TEXT,
    sampling_fps REAL,
    frames_total INTEGER,
    status TEXT NOT NULL,
    error TEXT,
    created_at INTEGER,
    updated_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX video_metadata_status ON video_metadata (status);`,
  },
  {
    version: 4,
    name: "video_source_identity",
    // A clip already seen at the same path, size and mtime is known without
    // hashing it again (an SD card is rescanned on every start).
    sql: `
ALTER TABLE video_metadata ADD COLUMN mtime_ms INTEGER;
CREATE INDEX video_metadata_source ON video_metadata (path, size, mtime_ms);`,
  },
  {
    version: 5,
    name: "passing_fault_bookkeeping",
    // Why a clip failed: 'clip' (its own file), 'tasks' (a stage failed for
    // good) or 'transient' (file system or database for a while; retried on
    // the next start). NULL on rows failed before this migration: start-up
    // classifies those from their error text. tasks.postponed counts the
    // runs put off by such a fault (they do not use up attempts).
    sql: `
ALTER TABLE video_metadata ADD COLUMN error_kind TEXT;
ALTER TABLE tasks ADD COLUMN postponed INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 6,
    name: "segments_cameras_decoded_fraction",
    // Issue 11 kinds 1, 3, 4. video_metadata: the camera's file name (a
    // spooled copy's path is its hash), the camera id and chain key
    // (camera/channel, see ingest/segment_name.ts), the camera's time zone,
    // the start of the recording's first frame in seconds (pts), and the
    // fraction of the stated duration that decoded (1 unless cut short).
    // held_tracks: tracks seen at a segment's end, waiting for the next
    // segment (see graph/segment_chain.ts), kept across power cuts.
    sql: `
ALTER TABLE video_metadata ADD COLUMN source_name TEXT;
ALTER TABLE video_metadata ADD COLUMN camera_id TEXT;
ALTER TABLE video_metadata ADD COLUMN chain_key TEXT;
ALTER TABLE video_metadata ADD COLUMN time_zone TEXT;
ALTER TABLE video_metadata ADD COLUMN stream_start_s REAL;
ALTER TABLE video_metadata ADD COLUMN decoded_fraction REAL;
ALTER TABLE video_metadata ADD COLUMN plates_found INTEGER;
CREATE INDEX video_metadata_chain ON video_metadata (chain_key);
CREATE TABLE held_tracks (
    event_key TEXT PRIMARY KEY,
    chain_key TEXT NOT NULL,
    video_id TEXT NOT NULL,
    end_ms INTEGER NOT NULL,
    text TEXT NOT NULL,
    support INTEGER NOT NULL,
    event TEXT NOT NULL,
    held_at INTEGER NOT NULL,
    segments INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX held_tracks_chain ON held_tracks (chain_key, end_ms);`,
  },
  {
    version: 7,
    name: "video_stream_index",
    // The video stream intake's ffprobe chose (ClipInfo.streamIndex), so
    // the decoder does not run ffprobe on the clip a second time. NULL on
    // rows registered before this migration: the decoder probes those.
    sql: `
ALTER TABLE video_metadata ADD COLUMN stream_index INTEGER;`,
  },
];
