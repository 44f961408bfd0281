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
];
