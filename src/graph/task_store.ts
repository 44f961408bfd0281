/**
 * The task queue on `pipeline.db`: enqueue, claim with a lease, complete,
 * fail, reclaim, and the dispatcher's result handling. Each function is one
 * state change; times are passed in (`now`, epoch ms) so tests drive the clock.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { cachedStatement, type TaskCategory } from "../shared/mod.ts";
import { transaction } from "./db.ts";

/** A `tasks` row: the seed's columns plus the queue's. */
export interface TaskRow {
  /** Seed: task id. */
  id: number;
  /** Seed: stage. */
  category: TaskCategory;
  /** Seed: JSON `{"payload_ref": …}`. */
  payload: string;
  /** Seed: priority (higher first). */
  priority: number;
  /** Seed: source clip. */
  video_id: string;
  /** Seed: sampled frame index, null for clip-level tasks. */
  frame_idx: number | null;
  /** Seed: track id, null before tracking. */
  track_id: number | null;
  /** Seed: JSON with everything else the worker needs. */
  meta: string;
  /** Seed: JSON list of the payload_refs this task needs. */
  dependencies: string;
  /** Seed: 'queued' | 'done'; plus the terminal 'failed'. */
  status: "queued" | "done" | "failed";
  /** Attempts started (counted at claim). */
  attempts: number;
  /** Attempts allowed before 'failed'. */
  max_attempts: number;
  /** Times the whole process died while this task was leased. */
  interrupts: number;
  /** Who holds the lease. */
  lease_owner: string | null;
  /** Lease end, epoch ms. */
  lease_until: number | null;
  /** Not claimable before this, epoch ms. */
  run_at: number;
  /** Error of the last failed attempt. */
  last_error: string | null;
  /** Creation time, epoch ms. */
  created_at: number | null;
  /** Completion time, epoch ms. */
  finished_at: number | null;
}

/** A task to create. */
export interface NewTask {
  /** Stage. */
  category: TaskCategory;
  /** The payload reference (a frame path relative to the data dir, or `video:<id>`). */
  payloadRef: string;
  /** Source clip. */
  videoId: string;
  /** Sampled frame index, or null for clip-level tasks. */
  frameIdx: number | null;
  /** Track id, or null. */
  trackId: number | null;
  /** Anything else the worker needs. */
  meta: Record<string, unknown>;
  /** payload_refs this task needs on disk. */
  dependencies: string[];
  /** Priority, higher first. @default {0} */
  priority?: number;
}

/** Thrown when a write-back finds that the lease is no longer the writer's. */
export class LeaseLostError extends Error {
  /** Creates the error. */
  constructor(taskId: number, owner: string) {
    super(`Cannot complete task ${taskId}: lease no longer held by ${owner}`);
    this.name = "LeaseLostError";
  }
}

/**
 * Inserts tasks; a task whose (category, video_id, frame_idx, track_id)
 * exists already is skipped, which makes fan-out idempotent.
 *
 * @param db The database (call inside a transaction to batch).
 * @param tasks Tasks to create.
 * @param options Clock and attempt budget.
 * @returns How many rows were inserted.
 */
export function enqueueTasks(
  db: DatabaseSync,
  tasks: readonly NewTask[],
  options: { now: number; maxAttempts: number },
): number {
  const stmt = cachedStatement(
    db,
    `INSERT OR IGNORE INTO tasks
       (category, payload, priority, video_id, frame_idx, track_id, meta,
        dependencies, status, max_attempts, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
  );
  let inserted = 0;
  for (const t of tasks) {
    const r = stmt.run(
      t.category,
      JSON.stringify({ payload_ref: t.payloadRef }),
      t.priority ?? 0,
      t.videoId,
      t.frameIdx,
      t.trackId,
      JSON.stringify(t.meta),
      JSON.stringify(t.dependencies),
      options.maxAttempts,
      options.now,
    );
    inserted += Number(r.changes);
  }
  return inserted;
}

/** Options for {@linkcode claimTask}. */
export interface ClaimOptions {
  /** Stage to claim from. */
  category: TaskCategory;
  /** Lease owner id (pool id + worker id). */
  owner: string;
  /** Current time, epoch ms. */
  now: number;
  /** Lease length in ms. */
  leaseMs: number;
}

/**
 * Atomically claims the next ready task of a category: queued, due, not
 * leased (or lease expired), attempts left. Counts the attempt at claim time.
 *
 * @param db The database.
 * @param options Category, owner, clock and lease length.
 * @returns The claimed row, or null when none is ready.
 */
export function claimTask(
  db: DatabaseSync,
  options: ClaimOptions,
): TaskRow | null {
  const row = cachedStatement(
    db,
    `UPDATE tasks
        SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
      WHERE id = (
        SELECT id FROM tasks
         WHERE category = ? AND status = 'queued' AND run_at <= ?
           AND (lease_until IS NULL OR lease_until < ?)
           AND attempts < max_attempts
         ORDER BY priority DESC, id
         LIMIT 1)
      RETURNING *`,
  ).get(
    options.owner,
    options.now + options.leaseMs,
    options.category,
    options.now,
    options.now,
  );
  return (row as unknown as TaskRow | undefined) ?? null;
}

/**
 * Marks a leased task done and stores its result, in one transaction. The
 * write is fenced: it only happens while `owner` still holds the lease.
 *
 * @param db The database.
 * @param options Task, owner, result JSON and clock.
 * @throws {LeaseLostError} When the lease was lost (expired and taken).
 */
export function completeTask(
  db: DatabaseSync,
  options: { taskId: number; owner: string; result: unknown; now: number },
): void {
  transaction(db, () => {
    const r = cachedStatement(
      db,
      `UPDATE tasks
          SET status = 'done', lease_owner = NULL, lease_until = NULL,
              finished_at = ?
        WHERE id = ? AND lease_owner = ? AND status = 'queued'`,
    ).run(options.now, options.taskId, options.owner);
    if (Number(r.changes) !== 1) {
      throw new LeaseLostError(options.taskId, options.owner);
    }
    cachedStatement(db, "INSERT INTO results (task_id, result) VALUES (?, ?)")
      .run(
        options.taskId,
        JSON.stringify(options.result),
      );
  });
}

/**
 * Records a failed attempt: stores the error, releases the lease and delays
 * the retry by `backoffMs * 2^(attempts-1)`; after the last attempt the task
 * ends 'failed'. Fenced on the owner like {@linkcode completeTask}.
 *
 * @param db The database.
 * @param options Task, owner, error text, clock and base backoff.
 * @returns The task's status afterwards, or null when the lease was lost.
 */
export function failTask(
  db: DatabaseSync,
  options: {
    taskId: number;
    owner: string;
    error: string;
    now: number;
    backoffMs: number;
  },
): "queued" | "failed" | null {
  const row = cachedStatement(
    db,
    `UPDATE tasks
        SET last_error = ?, lease_owner = NULL, lease_until = NULL,
            run_at = ? + ? * (1 << MIN(attempts - 1, 16)),
            status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
            finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END
      WHERE id = ? AND lease_owner = ? AND status = 'queued'
      RETURNING status`,
  ).get(
    options.error,
    options.now,
    options.backoffMs,
    options.now,
    options.taskId,
    options.owner,
  ) as unknown as { status: "queued" | "failed" } | undefined;
  return row?.status ?? null;
}

/**
 * Ends tasks whose lease expired on their last attempt (the worker died or
 * hung each time): they become 'failed' with an error saying so.
 *
 * @param db The database.
 * @param options Clock.
 * @returns How many tasks were failed.
 */
export function failExpiredLeases(
  db: DatabaseSync,
  options: { now: number },
): number {
  const r = cachedStatement(
    db,
    `UPDATE tasks
        SET status = 'failed', finished_at = ?, lease_owner = NULL,
            lease_until = NULL,
            last_error = COALESCE(last_error || '; ', '') ||
              'worker lost on attempt ' || attempts || ' (lease expired)'
      WHERE status = 'queued' AND lease_until IS NOT NULL AND lease_until < ?
        AND attempts >= max_attempts`,
  ).run(options.now, options.now);
  return Number(r.changes);
}

/**
 * Start-up recovery after a crash or power cut: every lease still held
 * belongs to a dead process (the data-dir lock guarantees a single owner), so
 * it is released with the attempt given back, and the interruption counted.
 * A task that has interrupted the process `maxInterrupts` times (it may be
 * what kills it) ends 'failed' instead.
 *
 * @param db The database.
 * @param options Clock and interruption budget.
 * @returns Released and failed counts.
 */
export function recoverInterrupted(
  db: DatabaseSync,
  options: { now: number; maxInterrupts: number },
): { released: number; failed: number } {
  return transaction(db, () => {
    const failed = cachedStatement(
      db,
      `UPDATE tasks
          SET status = 'failed', finished_at = ?, lease_owner = NULL,
              lease_until = NULL, interrupts = interrupts + 1,
              last_error = COALESCE(last_error || '; ', '') ||
                'process died while running it ' || (interrupts + 1) || ' times'
        WHERE status = 'queued' AND lease_owner IS NOT NULL
          AND interrupts + 1 >= ?`,
    ).run(options.now, options.maxInterrupts);
    const released = cachedStatement(
      db,
      `UPDATE tasks
          SET lease_owner = NULL, lease_until = NULL,
              attempts = MAX(attempts - 1, 0), interrupts = interrupts + 1
        WHERE status = 'queued' AND lease_owner IS NOT NULL`,
    ).run();
    return {
      released: Number(released.changes),
      failed: Number(failed.changes),
    };
  });
}

/**
 * Clean shutdown: hands back the leases of tasks still running when the
 * workers were stopped, with the attempt given back (they did not fail).
 *
 * @param db The database.
 * @returns How many leases were released.
 */
export function releaseLeases(db: DatabaseSync): number {
  const r = cachedStatement(
    db,
    `UPDATE tasks SET lease_owner = NULL, lease_until = NULL,
            attempts = MAX(attempts - 1, 0)
      WHERE status = 'queued' AND lease_owner IS NOT NULL`,
  ).run();
  return Number(r.changes);
}

/**
 * The status of one frame's `vehicle_detect` task (the decoder's resume check).
 *
 * @param db The database.
 * @param options The clip and the sampled frame.
 * @returns The status, or null when the task does not exist.
 */
export function frameTaskStatus(
  db: DatabaseSync,
  options: { videoId: string; frameIdx: number },
): TaskRow["status"] | null {
  const row = cachedStatement(
    db,
    `SELECT status FROM tasks
      WHERE category = 'vehicle_detect' AND video_id = ? AND frame_idx = ?`,
  ).get(options.videoId, options.frameIdx) as
    | { status: TaskRow["status"] }
    | undefined;
  return row?.status ?? null;
}

/**
 * Queued tasks of some categories, over every clip. With the frame stages
 * it counts the frames still being worked on (each frame has one queued
 * task at a time); frames kept for failed tasks are not among them.
 *
 * @param db The database.
 * @param options The categories.
 * @returns The count.
 */
export function queuedTasksIn(
  db: DatabaseSync,
  options: { categories: readonly string[] },
): number {
  const marks = options.categories.map(() => "?").join(", ");
  const row = cachedStatement(
    db,
    `SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued' AND category IN (${marks})`,
  ).get(...options.categories) as { n: number };
  return Number(row.n);
}

/**
 * Tasks not finished yet, over every clip (back-pressure on intake).
 *
 * @param db The database.
 * @returns The count of queued tasks.
 */
export function queuedTaskCount(db: DatabaseSync): number {
  const row = cachedStatement(
    db,
    "SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'",
  ).get() as {
    n: number;
  };
  return Number(row.n);
}

/**
 * Work queued over every clip, in tasks, for intake back-pressure: the
 * queued tasks, plus the frames of clips not fully decoded yet that have no
 * task so far (duration × sampling rate, rounded up). A clip just taken
 * counts in full before its frames are decoded, so clips taken one after the
 * other cannot each slip under the bound while the first is still decoding.
 *
 * @param db The database.
 * @returns The count.
 */
export function intakeBacklog(db: DatabaseSync): number {
  const row = cachedStatement(
    db,
    `SELECT (SELECT COUNT(*) FROM tasks WHERE status = 'queued') +
            COALESCE((
              SELECT SUM(MAX(0,
                       CAST(COALESCE(v.duration_s, 0) * COALESCE(v.sampling_fps, 0)
                            + 0.999 AS INTEGER) -
                       (SELECT COUNT(*) FROM tasks t
                         WHERE t.category = 'vehicle_detect'
                           AND t.video_id = v.video_id)))
                FROM video_metadata v
               WHERE v.status IN ('queued', 'decoding')), 0) AS n`,
  ).get() as { n: number };
  return Number(row.n);
}

/**
 * The error of a clip's failed task of one category, if any.
 *
 * @param db The database.
 * @param options The clip and category.
 * @returns The last error, or null.
 */
export function failedTaskError(
  db: DatabaseSync,
  options: { videoId: string; category: TaskCategory },
): string | null {
  const row = cachedStatement(
    db,
    `SELECT last_error FROM tasks
      WHERE video_id = ? AND category = ? AND status = 'failed' LIMIT 1`,
  ).get(options.videoId, options.category) as
    | { last_error: string | null }
    | undefined;
  return row ? row.last_error ?? "failed" : null;
}

/**
 * Merges the WAL into the database file (clean shutdown).
 *
 * @param db The database.
 */
export function checkpoint(db: DatabaseSync): void {
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

/**
 * The finished tasks of one category of a clip with their results, in frame
 * order (what `plate_smooth` reads).
 *
 * @param db The database.
 * @param options The clip and category.
 * @returns Task rows with their parsed results.
 */
export function clipResults(
  db: DatabaseSync,
  options: { videoId: string; category: TaskCategory },
): Array<{ task: TaskRow; result: unknown }> {
  const rows = cachedStatement(
    db,
    `SELECT t.*, r.result AS result_json FROM tasks t
       JOIN results r ON r.task_id = t.id
      WHERE t.video_id = ? AND t.category = ? AND t.status = 'done'
      ORDER BY t.frame_idx, t.track_id, t.id`,
  ).all(options.videoId, options.category) as unknown as Array<
    TaskRow & { result_json: string }
  >;
  return rows.map(({ result_json, ...task }) => ({
    task: task as TaskRow,
    result: JSON.parse(result_json),
  }));
}

/** An unhandled result joined with its task. */
export interface UnhandledResult {
  /** The result row id. */
  resultId: number;
  /** The task, rebuilt from its row. */
  task: TaskRow;
  /** The parsed result. */
  result: unknown;
}

/**
 * Reads results the dispatcher has not handled yet, oldest first.
 *
 * @param db The database.
 * @param options How many to read.
 * @returns The results with their tasks.
 */
export function fetchUnhandled(
  db: DatabaseSync,
  options: { limit: number },
): UnhandledResult[] {
  const rows = cachedStatement(
    db,
    `SELECT r.id AS result_id, r.result AS result_json, t.*
       FROM results r JOIN tasks t ON t.id = r.task_id
      WHERE r.handled = 0
      ORDER BY r.id
      LIMIT ?`,
  ).all(options.limit) as unknown as Array<
    TaskRow & { result_id: number; result_json: string }
  >;
  return rows.map(({ result_id, result_json, ...task }) => ({
    resultId: result_id,
    task: task as TaskRow,
    result: JSON.parse(result_json),
  }));
}

/**
 * The dispatcher's step for one result: creates the next stage's tasks and
 * sets `handled = 1` in the same transaction, so a crash never loses or
 * doubles a fan-out.
 *
 * @param db The database.
 * @param options The result id, the children, and enqueue options.
 * @returns Children inserted, or -1 when the result was already handled.
 */
export function handleResult(
  db: DatabaseSync,
  options: {
    resultId: number;
    children: readonly NewTask[];
    now: number;
    maxAttempts: number;
  },
): number {
  return transaction(db, () => {
    const r = cachedStatement(
      db,
      "UPDATE results SET handled = 1 WHERE id = ? AND handled = 0",
    ).run(options.resultId);
    if (Number(r.changes) !== 1) return -1;
    return enqueueTasks(db, options.children, options);
  });
}

/** The seed's dependency cleanup query, unchanged. */
export const SEED_CLEANUP_QUERY = `SELECT COUNT(*)
FROM tasks t
LEFT JOIN results r ON r.task_id = t.id
WHERE t.id != ?
  AND t.dependencies LIKE ?
  AND (
        t.status != 'done'
        OR (r.id IS NOT NULL AND r.handled = 0)
      );`;

/**
 * Runs the seed's cleanup query for one payload_ref.
 *
 * @param db The database.
 * @param options The ref and the task id to leave out (the one just handled).
 * @returns The count; 0 means the frame may be deleted.
 */
export function frameUsers(
  db: DatabaseSync,
  options: { ref: string; excludeTaskId: number },
): number {
  const row = cachedStatement(db, SEED_CLEANUP_QUERY).get(
    options.excludeTaskId,
    `%${JSON.stringify(options.ref)}%`,
  ) as Record<string, SQLInputValue>;
  return Number(Object.values(row)[0]);
}
