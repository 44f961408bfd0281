import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import {
  failureKind,
  requeueTransientFailures,
  setFailureKind,
} from "../../src/graph/clip_failures.ts";
import {
  getVideo,
  registerVideo,
  setVideoStatus,
} from "../../src/graph/video_store.ts";
import { withGraphDb } from "../support/graph_db.ts";

function failed(
  db: DatabaseSync,
  id: string,
  error: string,
  options: { sha?: string | null; kind?: "clip" | "tasks" | "transient" } = {},
): void {
  const { sha = "ab", kind } = options;
  registerVideo(db, { video_id: id, path: `/in/${id}.mp4`, sha256: sha }, {
    now: 1,
  });
  setVideoStatus(db, { videoId: id, status: "failed", error, now: 2 });
  if (kind) setFailureKind(db, { videoId: id, kind });
}

/** Legacy texts: "EROFS" is passing, anything else is the clip's. */
const classify = (e: string | null) =>
  e?.includes("EROFS") ? "transient" as const : "clip" as const;

Deno.test("`requeueTransientFailures()` queues again the clips failed for a passing reason, new or legacy, and keeps the others failed", () => {
  withGraphDb((db) => {
    failed(db, "t1", "EROFS now", { kind: "transient" });
    failed(db, "l1", "EROFS then"); // legacy row: no kind
    failed(db, "c1", "moov atom not found"); // legacy, the clip's fault
    failed(db, "c2", "EROFS text, but the clip's", { kind: "clip" });
    failed(db, "k1", "plate_smooth failed: x", { kind: "tasks" });
    failed(db, "p1", "EROFS before hashing", { sha: null }); // not registered
    const queued = requeueTransientFailures(db, { now: 10, classify });
    assert.deepEqual(queued.map((q) => q.videoId).sort(), ["l1", "t1"]);
    for (const id of ["t1", "l1"]) {
      const v = getVideo(db, id)!;
      assert.equal(v.status, "queued");
      assert.equal(v.error, null);
      assert.equal(v.finished_at, null);
      assert.equal(v.error_kind, null);
    }
    assert.equal(getVideo(db, "c1")!.status, "failed");
    assert.equal(failureKind(db, "c1"), "clip", "legacy kind stored");
    assert.equal(failureKind(db, "c2"), "clip");
    assert.equal(failureKind(db, "k1"), "tasks");
    assert.equal(getVideo(db, "p1")!.status, "failed");
    // Once classified, a second start changes nothing.
    assert.deepEqual(requeueTransientFailures(db, { now: 11, classify }), []);
  });
});
