/**
 * Why clips failed (`video_metadata.error_kind`), and taking up again on
 * start-up the clips that failed for a passing reason.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { cachedStatement, transaction } from "../shared/mod.ts";

/** Stored failure kinds (see `FailureKind` in daemon/fs_fault.ts). */
export type StoredFailureKind = "clip" | "tasks" | "transient";

/**
 * Records why a clip failed.
 *
 * @param db The database.
 * @param options The clip and the kind (null clears it).
 */
export function setFailureKind(
  db: DatabaseSync,
  options: { videoId: string; kind: StoredFailureKind | null },
): void {
  cachedStatement(
    db,
    "UPDATE video_metadata SET error_kind = ? WHERE video_id = ?",
  )
    .run(options.kind, options.videoId);
}

/**
 * A clip's failure kind, or null (not failed, or failed before kinds were
 * recorded).
 *
 * @param db The database.
 * @param videoId The clip.
 * @returns The kind.
 */
export function failureKind(
  db: DatabaseSync,
  videoId: string,
): StoredFailureKind | null {
  const row = cachedStatement(
    db,
    "SELECT error_kind FROM video_metadata WHERE video_id = ? AND status = 'failed'",
  ).get(videoId) as { error_kind: StoredFailureKind | null } | undefined;
  return row?.error_kind ?? null;
}

/** Options for {@linkcode requeueTransientFailures}. */
export interface RequeueOptions {
  /** Clock (epoch ms). */
  now: number;
  /**
   * Kind of an error stored without one (a row from before migration 5),
   * from its text.
   */
  classify: (error: string | null) => StoredFailureKind;
}

/**
 * Puts back to `queued` the clips that failed for a passing reason (kind
 * `transient`, or a legacy row whose error text says so), and stores the
 * kind of the other legacy failed rows. Only clips that were registered
 * (probed, with a hash) can be queued; the others are offered again by the
 * inbox watcher.
 *
 * @param db The database.
 * @param options Clock and the classifier of legacy errors.
 * @returns The ids queued again, with the error each had.
 */
export function requeueTransientFailures(
  db: DatabaseSync,
  options: RequeueOptions,
): Array<{ videoId: string; error: string | null }> {
  return transaction(db, () => {
    const rows = cachedStatement(
      db,
      `SELECT video_id, error, error_kind, sha256 FROM video_metadata
        WHERE status = 'failed' AND (error_kind IS NULL OR error_kind = 'transient')
        ORDER BY created_at, video_id`,
    ).all() as Array<
      {
        video_id: string;
        error: string | null;
        error_kind: StoredFailureKind | null;
        sha256: string | null;
      }
    >;
    const queued: Array<{ videoId: string; error: string | null }> = [];
    const requeue = cachedStatement(
      db,
      `UPDATE video_metadata
          SET status = 'queued', error = NULL, error_kind = NULL,
              finished_at = NULL, updated_at = ?
        WHERE video_id = ?`,
    );
    const mark = cachedStatement(
      db,
      "UPDATE video_metadata SET error_kind = ? WHERE video_id = ?",
    );
    for (const r of rows) {
      const kind = r.error_kind ?? options.classify(r.error);
      if (kind === "transient" && r.sha256 !== null) {
        requeue.run(options.now, r.video_id);
        queued.push({ videoId: r.video_id, error: r.error });
      } else if (r.error_kind === null) {
        mark.run(kind, r.video_id);
      }
    }
    return queued;
  });
}
