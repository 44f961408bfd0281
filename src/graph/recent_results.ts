/**
 * Results of one stage for a window of a clip's frames: what the dispatcher
 * reads to follow tracks while frames complete (the online tracker's state
 * is rebuilt from these durable rows, so it survives a restart).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { cachedStatement, type TaskCategory } from "../shared/mod.ts";

/** Options for {@linkcode recentResults}. */
export interface RecentResultsOptions {
  /** The clip. */
  videoId: string;
  /** The stage. */
  category: TaskCategory;
  /** First sampled frame of the window (inclusive). */
  fromFrame: number;
  /** Last sampled frame of the window (inclusive). */
  toFrame: number;
}

/**
 * The parsed results of a stage's done tasks on frames `fromFrame..toFrame`
 * of a clip, by frame. Served by the `(category, video_id, frame_idx, …)`
 * index, so the cost follows the window, not the clip's length.
 *
 * @param db The graph database.
 * @param options Clip, stage and frame window.
 * @returns `{ frameIdx, result }` rows, ordered by frame then task id.
 */
export function recentResults(
  db: DatabaseSync,
  options: RecentResultsOptions,
): Array<{ frameIdx: number; result: unknown }> {
  const rows = cachedStatement(
    db,
    `SELECT t.frame_idx AS frame_idx, r.result AS result_json
       FROM tasks t JOIN results r ON r.task_id = t.id
      WHERE t.category = ? AND t.video_id = ?
        AND COALESCE(t.frame_idx, -1) BETWEEN ? AND ?
        AND t.status = 'done'
      ORDER BY t.frame_idx, t.id`,
  ).all(
    options.category,
    options.videoId,
    options.fromFrame,
    options.toFrame,
  ) as unknown as Array<{ frame_idx: number; result_json: string }>;
  return rows.map((r) => ({
    frameIdx: r.frame_idx,
    result: JSON.parse(r.result_json),
  }));
}
