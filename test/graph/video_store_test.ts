import assert from "node:assert/strict";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { enqueueTasks, type NewTask } from "../../src/graph/task_store.ts";
import {
  clipWarnings,
  findVideoBySource,
  getVideo,
  graphStatus,
  listVideos,
  pendingWork,
  pruneVideoRows,
  registerVideo,
  setVideoStatus,
  taskCounts,
  type VideoRow,
} from "../../src/graph/video_store.ts";
import { withGraphDb } from "../support/graph_db.ts";

const FRAME_STAGES = ["vehicle_detect", "plate_detect", "ocr"] as const;

function video(db: DatabaseSync, id: string): VideoRow {
  const r = getVideo(db, id);
  assert.ok(r, `video ${id} exists`);
  return { ...r };
}

function count(db: DatabaseSync, sql: string): number {
  const r = db.prepare(sql).get() as Record<string, SQLInputValue>;
  return Number(Object.values(r)[0]);
}

function task(overrides: Partial<NewTask>): NewTask {
  return {
    category: "vehicle_detect",
    payloadRef: "frames/v1/000000.ppm",
    videoId: "v1",
    frameIdx: 0,
    trackId: null,
    meta: {},
    dependencies: [],
    ...overrides,
  };
}

/**
 * Seeds tasks with an exact status and, optionally, a result.
 * Returns the task id.
 */
function seedTask(
  db: DatabaseSync,
  t: NewTask,
  state: { status: string; result?: "handled" | "unhandled" },
): number {
  assert.equal(enqueueTasks(db, [t], { now: 1, maxAttempts: 3 }), 1);
  const id = Number(
    (db.prepare("SELECT MAX(id) AS id FROM tasks").get() as { id: number })
      .id,
  );
  db.prepare("UPDATE tasks SET status = ? WHERE id = ?").run(state.status, id);
  if (state.result) {
    db.prepare(
      "INSERT INTO results (task_id, result, handled) VALUES (?, ?, ?)",
    )
      .run(id, "{}", state.result === "handled" ? 1 : 0);
  }
  return id;
}

Deno.test("`registerVideo()` stores a new clip as queued and keeps the first row for a known id", () => {
  withGraphDb((db) => {
    const first = registerVideo(db, {
      video_id: "abc",
      path: "/sd/a.mp4",
      size: 1234,
      fps: 30,
      width: 1280,
      height: 720,
      mtime_ms: 99,
    }, { now: 1000 });
    assert.equal(first.created, true);
    assert.deepEqual({ ...first.row }, {
      video_id: "abc",
      path: "/sd/a.mp4",
      size: 1234,
      sha256: null,
      duration_s: null,
      fps: 30,
      width: 1280,
      height: 720,
      start_time: null,
      sampling_fps: null,
      frames_total: null,
      status: "queued",
      error: null,
      created_at: 1000,
      updated_at: 1000,
      finished_at: null,
      mtime_ms: 99,
      error_kind: null,
      source_name: null,
      camera_id: null,
      chain_key: null,
      time_zone: null,
      stream_start_s: null,
      decoded_fraction: null,
      plates_found: null,
      stream_index: null,
    });
    const again = registerVideo(
      db,
      { video_id: "abc", path: "/usb/renamed.mp4", size: 1 },
      { now: 2000 },
    );
    assert.equal(again.created, false);
    assert.equal(again.row.path, "/sd/a.mp4");
    assert.equal(again.row.size, 1234);
    assert.equal(again.row.created_at, 1000);
    assert.equal(count(db, "SELECT COUNT(*) FROM video_metadata"), 1);
  });
});

Deno.test("`findVideoBySource()` matches path, size and mtime together", () => {
  withGraphDb((db) => {
    registerVideo(
      db,
      { video_id: "abc", path: "/sd/a.mp4", size: 10, mtime_ms: 5 },
      { now: 1 },
    );
    const src = { path: "/sd/a.mp4", size: 10, mtimeMs: 5 };
    assert.equal(findVideoBySource(db, src)?.video_id, "abc");
    assert.equal(findVideoBySource(db, { ...src, size: 11 }), null);
    assert.equal(findVideoBySource(db, { ...src, mtimeMs: 6 }), null);
    assert.equal(findVideoBySource(db, { ...src, path: "/sd/b.mp4" }), null);
  });
});

Deno.test("`setVideoStatus()` moves the status and stamps times, error and frame count", () => {
  withGraphDb((db) => {
    registerVideo(db, { video_id: "v1", path: "/a.mp4" }, { now: 1000 });

    setVideoStatus(db, { videoId: "v1", status: "decoding", now: 1100 });
    let v = video(db, "v1");
    assert.equal(v.status, "decoding");
    assert.equal(v.updated_at, 1100);
    assert.equal(v.finished_at, null);
    assert.equal(v.frames_total, null);

    setVideoStatus(db, {
      videoId: "v1",
      status: "decoded",
      now: 1200,
      framesTotal: 23,
      error: "frame 7 unreadable",
    });
    v = video(db, "v1");
    assert.equal(v.frames_total, 23);
    assert.equal(v.error, "frame 7 unreadable");
    assert.equal(v.finished_at, null);

    // Omitted error and frame count keep the stored ones.
    setVideoStatus(db, { videoId: "v1", status: "done", now: 1300 });
    v = video(db, "v1");
    assert.equal(v.status, "done");
    assert.equal(v.frames_total, 23);
    assert.equal(v.error, "frame 7 unreadable");
    assert.equal(v.finished_at, 1300);
    assert.equal(v.updated_at, 1300);
    assert.equal(v.created_at, 1000);

    // An explicit null clears the error.
    setVideoStatus(db, {
      videoId: "v1",
      status: "failed",
      now: 1400,
      error: null,
    });
    v = video(db, "v1");
    assert.equal(v.status, "failed");
    assert.equal(v.error, null);
    assert.equal(v.finished_at, 1400);
  });
});

Deno.test("`listVideos()` lists clips oldest first, filtered by status", () => {
  withGraphDb((db) => {
    registerVideo(db, { video_id: "b", path: "/b" }, { now: 2 });
    registerVideo(db, { video_id: "a", path: "/a" }, { now: 3 });
    registerVideo(db, { video_id: "c", path: "/c" }, { now: 1 });
    setVideoStatus(db, { videoId: "a", status: "done", now: 4 });
    assert.deepEqual(listVideos(db).map((v) => v.video_id), ["c", "b", "a"]);
    assert.deepEqual(
      listVideos(db, { status: ["queued"] }).map((v) => v.video_id),
      ["c", "b"],
    );
    assert.deepEqual(
      listVideos(db, { status: ["done", "failed"] }).map((v) => v.video_id),
      ["a"],
    );
  });
});

Deno.test("`pendingWork()` counts queued tasks and unhandled results of the clip's categories", () => {
  withGraphDb((db) => {
    seedTask(db, task({ frameIdx: 0 }), { status: "queued" }); // 1
    seedTask(db, task({ category: "plate_detect", frameIdx: 0 }), {
      status: "done",
      result: "unhandled",
    }); // 1
    seedTask(db, task({ category: "ocr", frameIdx: 0 }), {
      status: "done",
      result: "handled",
    }); // 0
    seedTask(db, task({ category: "ocr", frameIdx: 1 }), {
      status: "failed",
    }); // 0
    seedTask(db, task({ category: "plate_smooth", frameIdx: null }), {
      status: "queued",
    }); // other category
    seedTask(db, task({ videoId: "v2" }), { status: "queued" }); // other clip
    const frames = { videoId: "v1", categories: FRAME_STAGES };
    assert.equal(pendingWork(db, frames), 2);
    assert.equal(
      pendingWork(db, { videoId: "v1", categories: ["plate_smooth"] }),
      1,
    );
    assert.equal(pendingWork(db, { videoId: "v2", categories: ["ocr"] }), 0);
    assert.equal(pendingWork(db, { ...frames, videoId: "v3" }), 0);
    assert.deepEqual(taskCounts(db, frames), { queued: 1, done: 2, failed: 1 });
  });
});

Deno.test("`pruneVideoRows()` deletes the clip's tasks and results only", () => {
  withGraphDb((db) => {
    registerVideo(db, { video_id: "v1", path: "/a" }, { now: 1 });
    seedTask(db, task({ frameIdx: 0 }), { status: "done", result: "handled" });
    seedTask(db, task({ frameIdx: 1 }), { status: "failed" });
    seedTask(db, task({ category: "ocr" }), {
      status: "done",
      result: "unhandled",
    });
    const other = seedTask(db, task({ videoId: "v2" }), {
      status: "done",
      result: "handled",
    });
    assert.equal(pruneVideoRows(db, { videoId: "v1" }), 3);
    assert.deepEqual(
      db.prepare("SELECT id FROM tasks").all().map((r) => r.id),
      [other],
    );
    assert.deepEqual(
      db.prepare("SELECT task_id FROM results").all().map((r) => r.task_id),
      [other],
    );
    assert.equal(video(db, "v1").status, "queued"); // the clip's row stays
    assert.equal(pruneVideoRows(db, { videoId: "v1" }), 0);
  });
});

Deno.test("`graphStatus()` counts tasks by category and status, unhandled results, failures and clips", () => {
  withGraphDb((db) => {
    registerVideo(db, { video_id: "v1", path: "/a" }, { now: 1 });
    registerVideo(db, { video_id: "v2", path: "/b" }, { now: 2 });
    registerVideo(db, { video_id: "v3", path: "/c" }, { now: 3 });
    setVideoStatus(db, { videoId: "v3", status: "done", now: 4 });
    seedTask(db, task({ frameIdx: 0 }), { status: "queued" });
    seedTask(db, task({ frameIdx: 1 }), { status: "done", result: "handled" });
    seedTask(db, task({ frameIdx: 2 }), {
      status: "done",
      result: "unhandled",
    });
    const f1 = seedTask(db, task({ category: "ocr", frameIdx: 4 }), {
      status: "failed",
    });
    const f2 = seedTask(db, task({ category: "ocr", frameIdx: 5 }), {
      status: "failed",
    });
    db.prepare(
      "UPDATE tasks SET attempts = 3, last_error = 'boom' WHERE id = ?",
    )
      .run(f2);

    const s = graphStatus(db);
    assert.deepEqual(s.tasks, {
      vehicle_detect: { queued: 1, done: 2 },
      ocr: { failed: 2 },
    });
    assert.equal(s.unhandledResults, 1);
    assert.deepEqual(s.failed.map((f) => ({ ...f })), [
      {
        id: f2,
        category: "ocr",
        video_id: "v1",
        frame_idx: 5,
        attempts: 3,
        last_error: "boom",
      },
      {
        id: f1,
        category: "ocr",
        video_id: "v1",
        frame_idx: 4,
        attempts: 0,
        last_error: null,
      },
    ]);
    assert.deepEqual(s.videos, { queued: 2, done: 1 });
  });
});

Deno.test("`graphStatus()` is empty on a new database", () => {
  withGraphDb((db) => {
    assert.deepEqual(graphStatus(db), {
      tasks: {},
      unhandledResults: 0,
      failed: [],
      videos: {},
    });
  });
});

Deno.test("`clipWarnings()` lists clips done with a note, newest first, not failed or clean ones", () => {
  withGraphDb((db) => {
    registerVideo(db, { video_id: "v1", path: "/sd/a.mp4" }, { now: 1 });
    registerVideo(db, { video_id: "v2", path: "/sd/b.mp4" }, { now: 1 });
    registerVideo(db, { video_id: "v3", path: "/sd/c.mp4" }, { now: 1 });
    registerVideo(db, { video_id: "v4", path: "/sd/d.mp4" }, { now: 1 });
    setVideoStatus(db, {
      videoId: "v1",
      status: "done",
      error: "cut short: decoded 11 of 23 frames (47%)",
      decodedFraction: 0.478,
      now: 5,
    });
    setVideoStatus(db, { videoId: "v2", status: "done", now: 6 });
    setVideoStatus(db, { videoId: "v3", status: "failed", error: "x", now: 7 });
    setVideoStatus(db, {
      videoId: "v4",
      status: "done",
      error: "source missing, 3 of 9 frames processed",
      now: 8,
    });
    assert.deepEqual(clipWarnings(db).map((w) => ({ ...w })), [
      {
        video_id: "v4",
        path: "/sd/d.mp4",
        note: "source missing, 3 of 9 frames processed",
        decoded_fraction: null,
      },
      {
        video_id: "v1",
        path: "/sd/a.mp4",
        note: "cut short: decoded 11 of 23 frames (47%)",
        decoded_fraction: 0.478,
      },
    ]);
    assert.equal(clipWarnings(db, { limit: 1 }).length, 1);
  });
});
