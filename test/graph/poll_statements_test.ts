import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { openGraphDb } from "../../src/graph/db.ts";
import {
  claimTask,
  completeTask,
  enqueueTasks,
  failExpiredLeases,
  fetchUnhandled,
  frameTaskStatus,
  frameUsers,
  handleResult,
  intakeBacklog,
  queuedTaskCount,
  queuedTasksIn,
} from "../../src/graph/task_store.ts";
import {
  getVideo,
  listVideos,
  pendingWork,
  registerVideo,
  setVideoStatus,
  taskCounts,
  type VideoStatus,
} from "../../src/graph/video_store.ts";
import { TASK_CATEGORIES } from "../../src/shared/mod.ts";

const FRAME_CATEGORIES = ["vehicle_detect", "plate_detect", "ocr"] as const;

/** A migrated pipeline.db whose `prepare()` calls are counted. */
function countedDb(): {
  db: DatabaseSync;
  prepared: () => number;
  dir: string;
} {
  const dir = Deno.makeTempDirSync({ prefix: "poll_statements_test_" });
  const db = openGraphDb(join(dir, "pipeline.db"));
  let n = 0;
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    n++;
    return prepare(sql);
  }) as typeof db.prepare;
  return { db, prepared: () => n, dir };
}

/** One idle round of every poll the daemon makes (dispatcher, workers, intake). */
function idlePoll(db: DatabaseSync, now: number): void {
  for (const category of TASK_CATEGORIES) {
    assert.equal(
      claimTask(db, { category, owner: "p:w", now, leaseMs: 1000 }),
      null,
    );
  }
  assert.deepEqual(fetchUnhandled(db, { limit: 200 }), []);
  assert.equal(failExpiredLeases(db, { now }), 0);
  assert.deepEqual(listVideos(db, { status: ["decoded", "smoothing"] }), []);
  assert.equal(queuedTaskCount(db), 0);
  assert.equal(intakeBacklog(db), 0);
  assert.equal(queuedTasksIn(db, { categories: FRAME_CATEGORIES }), 0);
}

/** One frame through the task queue and the dispatcher's bookkeeping. */
function busyRound(db: DatabaseSync, i: number): void {
  const videoId = `v${i}`;
  const ref = `frames/${videoId}/000000.ppm`;
  registerVideo(db, { video_id: videoId, path: `/c/${i}.mp4` }, { now: i });
  setVideoStatus(db, { videoId, status: "decoding", now: i });
  assert.equal(frameTaskStatus(db, { videoId, frameIdx: 0 }), null);
  enqueueTasks(db, [{
    category: "vehicle_detect",
    payloadRef: ref,
    videoId,
    frameIdx: 0,
    trackId: null,
    meta: {},
    dependencies: [ref],
  }], { now: i, maxAttempts: 3 });
  const task = claimTask(db, {
    category: "vehicle_detect",
    owner: "p:w",
    now: i,
    leaseMs: 1000,
  });
  assert.ok(task);
  completeTask(db, { taskId: task.id, owner: "p:w", result: {}, now: i });
  for (const r of fetchUnhandled(db, { limit: 200 })) {
    handleResult(db, {
      resultId: r.resultId,
      children: [],
      now: i,
      maxAttempts: 3,
    });
    assert.equal(frameUsers(db, { ref, excludeTaskId: r.task.id }), 0);
  }
  assert.equal(pendingWork(db, { videoId, categories: FRAME_CATEGORIES }), 0);
  assert.equal(
    taskCounts(db, { videoId, categories: FRAME_CATEGORIES }).done,
    1,
  );
  setVideoStatus(db, { videoId, status: "done", now: i });
  assert.equal(getVideo(db, videoId)?.status, "done");
}

Deno.test("The daemon's idle polls prepare each statement once per connection, however many polls run", () => {
  const { db, prepared, dir } = countedDb();
  try {
    for (let i = 0; i < 10; i++) idlePoll(db, 1000 + i);
    const warm = prepared();
    assert.ok(warm > 0, "the polls go through db.prepare");
    for (let i = 0; i < 1000; i++) idlePoll(db, 2000 + i);
    // Before the fix: one prepare per statement per poll (11,000 here).
    assert.equal(prepared(), warm);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("The task queue and clip bookkeeping prepare no new statement per clip once warm", () => {
  const { db, prepared, dir } = countedDb();
  try {
    for (let i = 0; i < 5; i++) busyRound(db, i);
    const warm = prepared();
    for (let i = 5; i < 505; i++) busyRound(db, i);
    assert.equal(prepared(), warm);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("`listVideos()` filters by status in SQL and keeps the oldest-first order", () => {
  const dir = Deno.makeTempDirSync({ prefix: "poll_statements_test_" });
  const db = openGraphDb(join(dir, "pipeline.db"));
  try {
    const statuses: VideoStatus[] = ["done", "decoded", "failed", "smoothing"];
    for (let i = 0; i < 400; i++) {
      const videoId = `v${String(i).padStart(3, "0")}`;
      registerVideo(db, { video_id: videoId, path: `/c/${i}` }, {
        now: 1000 - i, // newest id first, so order comes from created_at
      });
      setVideoStatus(db, { videoId, status: statuses[i % 4], now: 0 });
    }
    const got = listVideos(db, { status: ["decoded", "smoothing"] });
    assert.equal(got.length, 200);
    assert.ok(
      got.every((v) => v.status === "decoded" || v.status === "smoothing"),
    );
    assert.deepEqual(
      got.map((v) => v.created_at),
      got.map((v) => v.created_at).toSorted((a, b) => a! - b!),
    );
    assert.equal(listVideos(db, { status: ["failed"] }).length, 100);
    assert.deepEqual(listVideos(db, { status: [] }), []);
    assert.equal(listVideos(db).length, 400);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
