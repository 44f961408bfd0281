/**
 * The vehicle tracks of a clip as its summary tasks hold them (one summary
 * task per track, created by plate_smooth), read before the clip's rows are
 * pruned, for the fleet's `tracks` table.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** One track, as its summary task holds it. */
export interface TrackSummary {
  /** Track id. */
  trackId: number;
  /** The best reading's frame. */
  frameIdx: number | null;
  /** The task's meta (text, reads, firstFrame, lastFrame, … as the smooth stage wrote them). */
  meta: Record<string, unknown>;
}

/**
 * The summary tasks of a clip (done or not), by track.
 *
 * @param db The graph database.
 * @param videoId The clip.
 * @returns Its tracks.
 */
export function trackSummaries(
  db: DatabaseSync,
  videoId: string,
): TrackSummary[] {
  const rows = db.prepare(
    `SELECT track_id, frame_idx, meta FROM tasks
     WHERE category = 'summary' AND video_id = ? AND track_id IS NOT NULL
     ORDER BY track_id`,
  ).all(videoId) as Array<
    { track_id: number; frame_idx: number | null; meta: string | null }
  >;
  return rows.map((r) => {
    let meta: Record<string, unknown> = {};
    try {
      meta = JSON.parse(r.meta ?? "{}") as Record<string, unknown>;
    } catch { /* an unreadable meta gives an empty one */ }
    return { trackId: r.track_id, frameIdx: r.frame_idx, meta };
  });
}
