/**
 * The `video_metadata` table: one row per clip, with its life cycle
 * `queued → decoding → decoded → smoothing → done`, or `failed` with an error.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { cachedStatement } from "../shared/mod.ts";

/** A clip's status. */
export type VideoStatus =
  | "queued"
  | "decoding"
  | "decoded"
  | "smoothing"
  | "done"
  | "failed";

/** A `video_metadata` row. */
export interface VideoRow {
  /** Content-hash id. */
  video_id: string;
  /** Where the clip was read from. */
  path: string;
  /** Bytes. */
  size: number | null;
  /** Full sha256. */
  sha256: string | null;
  /** Duration in seconds. */
  duration_s: number | null;
  /** Native frame rate. */
  fps: number | null;
  /** Width. */
  width: number | null;
  /** Height. */
  height: number | null;
  /** ISO start time. */
  start_time: string | null;
  /** Sampling rate used. */
  sampling_fps: number | null;
  /** Sampled frames, known once decoded. */
  frames_total: number | null;
  /** Life-cycle status. */
  status: VideoStatus;
  /** Why it failed, or notes of partial failures. */
  error: string | null;
  /** Epoch ms. */
  created_at: number | null;
  /** Epoch ms. */
  updated_at: number | null;
  /** Epoch ms. */
  finished_at: number | null;
  /** The source file's mtime (epoch ms) when it was registered. */
  mtime_ms: number | null;
  /**
   * Why a failed clip failed: `clip`, `tasks` or `transient` (retried on
   * start); null otherwise (see `clip_failures.ts`).
   */
  error_kind: "clip" | "tasks" | "transient" | null;
  /** The camera's name for the file (a spooled copy's path is its hash). */
  source_name?: string | null;
  /** Camera id: the folder the camera's file is in (see ingest/segment_name.ts). */
  camera_id?: string | null;
  /** Camera id and channel; consecutive segments of one key continue tracks. */
  chain_key?: string | null;
  /** IANA zone of the camera's clock (for showing local times). */
  time_zone?: string | null;
  /** Presentation time of the recording's first frame, seconds (frame n is at this + n / sampling_fps). */
  stream_start_s?: number | null;
  /** Fraction of the stated duration that decoded, 0..1 (below 1: cut short). */
  decoded_fraction?: number | null;
  /** Plates (tracks with a reported text) the clip gave, once finished. */
  plates_found?: number | null;
  /** The video stream to decode (ffprobe's index, chosen at intake); null: probe again. */
  stream_index?: number | null;
}

/** Fields for a new clip. */
export type NewVideo =
  & Pick<VideoRow, "video_id" | "path">
  & Partial<
    Omit<
      VideoRow,
      | "video_id"
      | "path"
      | "status"
      | "error_kind"
      | "decoded_fraction"
      | "plates_found"
    >
  >;

/**
 * Registers a clip unless its id is known.
 *
 * @param db The database.
 * @param video The clip.
 * @param options Clock.
 * @returns The row as stored (the existing one for a known clip) and whether it is new.
 */
export function registerVideo(
  db: DatabaseSync,
  video: NewVideo,
  options: { now: number },
): { row: VideoRow; created: boolean } {
  const r = cachedStatement(
    db,
    `INSERT OR IGNORE INTO video_metadata
       (video_id, path, size, sha256, duration_s, fps, width, height,
        start_time, sampling_fps, mtime_ms, status, created_at, updated_at,
        source_name, camera_id, chain_key, time_zone, stream_start_s,
        stream_index)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    video.video_id,
    video.path,
    video.size ?? null,
    video.sha256 ?? null,
    video.duration_s ?? null,
    video.fps ?? null,
    video.width ?? null,
    video.height ?? null,
    video.start_time ?? null,
    video.sampling_fps ?? null,
    video.mtime_ms ?? null,
    options.now,
    options.now,
    video.source_name ?? null,
    video.camera_id ?? null,
    video.chain_key ?? null,
    video.time_zone ?? null,
    video.stream_start_s ?? null,
    video.stream_index ?? null,
  );
  return {
    row: getVideo(db, video.video_id)!,
    created: Number(r.changes) === 1,
  };
}

/**
 * Reads one clip's row.
 *
 * @param db The database.
 * @param videoId The clip id.
 * @returns The row, or null.
 */
export function getVideo(db: DatabaseSync, videoId: string): VideoRow | null {
  const row = cachedStatement(
    db,
    "SELECT * FROM video_metadata WHERE video_id = ?",
  )
    .get(videoId);
  return (row as unknown as VideoRow | undefined) ?? null;
}

/**
 * Finds a clip registered from the same file: same path, size and mtime.
 *
 * @param db The database.
 * @param source The file's path, size and mtime.
 * @returns The row, or null.
 */
export function findVideoBySource(
  db: DatabaseSync,
  source: { path: string; size: number; mtimeMs: number },
): VideoRow | null {
  const row = cachedStatement(
    db,
    `SELECT * FROM video_metadata WHERE path = ? AND size = ? AND mtime_ms = ?
      ORDER BY created_at DESC LIMIT 1`,
  ).get(source.path, source.size, source.mtimeMs);
  return (row as unknown as VideoRow | undefined) ?? null;
}

/**
 * Lists clips, optionally of some statuses, oldest first.
 *
 * @param db The database.
 * @param options Statuses to keep.
 * @returns The rows.
 */
export function listVideos(
  db: DatabaseSync,
  options: { status?: VideoStatus[] } = {},
): VideoRow[] {
  const { status } = options;
  if (status === undefined) {
    return cachedStatement(
      db,
      "SELECT * FROM video_metadata ORDER BY created_at, video_id",
    ).all() as unknown as VideoRow[];
  }
  // Filtered in SQL (index video_metadata_status): the dispatcher asks on
  // every poll, and the table keeps a row for every clip ever seen.
  if (status.length === 0) return [];
  const marks = status.map(() => "?").join(", ");
  return cachedStatement(
    db,
    `SELECT * FROM video_metadata WHERE status IN (${marks})
      ORDER BY created_at, video_id`,
  ).all(...status) as unknown as VideoRow[];
}

/**
 * Moves a clip to a status, optionally recording an error and frame count.
 *
 * @param db The database.
 * @param options Clip, new status, error, frame count, clock.
 */
export function setVideoStatus(
  db: DatabaseSync,
  options: {
    videoId: string;
    status: VideoStatus;
    now: number;
    error?: string | null;
    framesTotal?: number;
    /** Fraction of the stated duration decoded (0..1). */
    decodedFraction?: number;
    /** Plates the clip gave (set when it finishes). */
    platesFound?: number;
  },
): void {
  const terminal = options.status === "done" || options.status === "failed";
  cachedStatement(
    db,
    `UPDATE video_metadata
        SET status = ?, updated_at = ?,
            error = CASE WHEN ? THEN ? ELSE error END,
            frames_total = COALESCE(?, frames_total),
            decoded_fraction = COALESCE(?, decoded_fraction),
            plates_found = COALESCE(?, plates_found),
            finished_at = CASE WHEN ? THEN ? ELSE finished_at END
      WHERE video_id = ?`,
  ).run(
    options.status,
    options.now,
    options.error !== undefined ? 1 : 0,
    options.error ?? null,
    options.framesTotal ?? null,
    options.decodedFraction ?? null,
    options.platesFound ?? null,
    terminal ? 1 : 0,
    options.now,
    options.videoId,
  );
}

/**
 * Counts a clip's unfinished work in some categories: tasks still queued
 * plus results not yet handled.
 *
 * @param db The database.
 * @param options Clip and categories.
 * @returns The count; 0 means those stages are settled.
 */
export function pendingWork(
  db: DatabaseSync,
  options: { videoId: string; categories: readonly string[] },
): number {
  const marks = options.categories.map(() => "?").join(", ");
  const row = cachedStatement(
    db,
    `SELECT
       (SELECT COUNT(*) FROM tasks
         WHERE video_id = ? AND category IN (${marks}) AND status = 'queued')
     + (SELECT COUNT(*) FROM results r JOIN tasks t ON t.id = r.task_id
         WHERE t.video_id = ? AND t.category IN (${marks}) AND r.handled = 0)
       AS n`,
  ).get(
    options.videoId,
    ...options.categories,
    options.videoId,
    ...options.categories,
  ) as { n: number };
  return Number(row.n);
}

/**
 * Counts a clip's tasks by status in some categories.
 *
 * @param db The database.
 * @param options Clip and categories.
 * @returns Counts of queued, done and failed tasks.
 */
export function taskCounts(
  db: DatabaseSync,
  options: { videoId: string; categories: readonly string[] },
): { queued: number; done: number; failed: number } {
  const marks = options.categories.map(() => "?").join(", ");
  const rows = cachedStatement(
    db,
    `SELECT status, COUNT(*) AS n FROM tasks
      WHERE video_id = ? AND category IN (${marks}) GROUP BY status`,
  ).all(options.videoId, ...options.categories) as Array<
    { status: string; n: number }
  >;
  const out = { queued: 0, done: 0, failed: 0 };
  for (const r of rows) {
    if (r.status in out) out[r.status as keyof typeof out] = Number(r.n);
  }
  return out;
}

/**
 * Deletes a finished clip's tasks and results (the clip's row stays, so the
 * same clip is not processed again).
 *
 * @param db The database.
 * @param options The clip.
 * @returns Tasks deleted.
 */
export function pruneVideoRows(
  db: DatabaseSync,
  options: { videoId: string },
): number {
  cachedStatement(
    db,
    `DELETE FROM results WHERE task_id IN
       (SELECT id FROM tasks WHERE video_id = ?)`,
  ).run(options.videoId);
  const r = cachedStatement(db, "DELETE FROM tasks WHERE video_id = ?").run(
    options.videoId,
  );
  return Number(r.changes);
}

/** Per category and status task counts, results not handled, failures. */
export interface GraphStatus {
  /** category → status → count. */
  tasks: Record<string, Record<string, number>>;
  /** Results the dispatcher has not handled. */
  unhandledResults: number;
  /** Failed tasks with their errors (newest 20). */
  failed: Array<
    {
      id: number;
      category: string;
      video_id: string;
      frame_idx: number | null;
      attempts: number;
      last_error: string | null;
    }
  >;
  /** Clips by status. */
  videos: Record<string, number>;
}

/**
 * Summarises the graph for `status`.
 *
 * @param db The database.
 * @returns Counts and failures.
 */
export function graphStatus(db: DatabaseSync): GraphStatus {
  const tasks: GraphStatus["tasks"] = {};
  for (
    const r of cachedStatement(
      db,
      "SELECT category, status, COUNT(*) AS n FROM tasks GROUP BY category, status",
    ).all() as Array<{ category: string; status: string; n: number }>
  ) {
    (tasks[r.category] ??= {})[r.status] = Number(r.n);
  }
  const unhandled = cachedStatement(
    db,
    "SELECT COUNT(*) AS n FROM results WHERE handled = 0",
  ).get() as { n: number };
  const failed = cachedStatement(
    db,
    `SELECT id, category, video_id, frame_idx, attempts, last_error FROM tasks
      WHERE status = 'failed' ORDER BY id DESC LIMIT 20`,
  ).all() as unknown as GraphStatus["failed"];
  const videos: Record<string, number> = {};
  for (
    const r of cachedStatement(
      db,
      "SELECT status, COUNT(*) AS n FROM video_metadata GROUP BY status",
    ).all() as Array<{ status: string; n: number }>
  ) videos[r.status] = Number(r.n);
  return { tasks, unhandledResults: Number(unhandled.n), failed, videos };
}

/** A clip finished with a warning. */
export interface ClipWarning {
  /** The clip's id. */
  video_id: string;
  /** The clip's path. */
  path: string;
  /** The note kept with it (`cut short: decoded N of M frames (P%)`, ...). */
  note: string;
  /** Fraction of its stated duration that decoded (0..1; null before migration 6). */
  decoded_fraction: number | null;
}

/**
 * Clips finished (`done`) with a note: cut short, source missing, some
 * tasks failed. For `status` only (not on a poll path).
 *
 * @param db The database.
 * @param options How many, newest first. @default {limit: 20}
 * @returns Path and note of each.
 */
export function clipWarnings(
  db: DatabaseSync,
  options: { limit?: number } = {},
): ClipWarning[] {
  return cachedStatement(
    db,
    `SELECT video_id, path, error AS note, decoded_fraction FROM video_metadata
      WHERE status = 'done' AND error IS NOT NULL
      ORDER BY finished_at DESC, video_id LIMIT ?`,
  ).all(options.limit ?? 20) as unknown as ClipWarning[];
}
