import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { postponeTask } from "../../src/graph/task_postpone.ts";
import {
  claimTask,
  enqueueTasks,
  failTask,
} from "../../src/graph/task_store.ts";
import { withGraphDb } from "../support/graph_db.ts";

function row(db: DatabaseSync) {
  return { ...db.prepare("SELECT * FROM tasks").get() } as Record<
    string,
    unknown
  >;
}

const CLAIM = {
  category: "vehicle_detect",
  owner: "p:0",
  leaseMs: 1000,
} as const;

Deno.test("`postponeTask()` gives the attempt back, releases the lease and doubles the delay up to its cap", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [{
      category: "vehicle_detect",
      videoId: "v1",
      frameIdx: 0,
      payloadRef: "frames/v1/000000.ppm",
      trackId: null,
      meta: {},
      dependencies: [],
    }], { now: 0, maxAttempts: 2 });
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const task = claimTask(db, { ...CLAIM, now });
      assert.ok(task, `claimable after ${i} postponements`);
      const d = postponeTask(db, {
        taskId: task.id,
        owner: "p:0",
        error: "Read-only file system (os error 30)",
        now,
        backoffMs: 100,
        maxDelayMs: 1000,
      });
      assert.ok(d !== null);
      delays.push(d);
      assert.equal(claimTask(db, { ...CLAIM, now: now + d - 1 }), null);
      now += d;
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    const r = row(db);
    assert.equal(r.attempts, 0, "no attempt used up");
    assert.equal(r.status, "queued");
    assert.equal(r.lease_owner, null);
    assert.equal(r.postponed, 6);
    assert.equal(r.last_error, "Read-only file system (os error 30)");
  });
});

Deno.test("`postponeTask()` refuses past its bound and for a lost lease, so the ordinary retries take over", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [{
      category: "vehicle_detect",
      videoId: "v1",
      frameIdx: 0,
      payloadRef: "frames/v1/000000.ppm",
      trackId: null,
      meta: {},
      dependencies: [],
    }], { now: 0, maxAttempts: 1 });
    const opts = { error: "EIO", backoffMs: 1, maxPostponed: 2 };
    let now = 0;
    for (let i = 0; i < 2; i++) {
      const t = claimTask(db, { ...CLAIM, now })!;
      now += postponeTask(db, { ...opts, taskId: t.id, owner: "p:0", now })!;
    }
    const t = claimTask(db, { ...CLAIM, now })!;
    assert.equal(
      postponeTask(db, { ...opts, taskId: t.id, owner: "other", now }),
      null,
      "fenced on the lease owner",
    );
    assert.equal(
      postponeTask(db, { ...opts, taskId: t.id, owner: "p:0", now }),
      null,
      "bound reached",
    );
    assert.equal(
      failTask(db, {
        taskId: t.id,
        owner: "p:0",
        error: "EIO",
        now,
        backoffMs: 1,
      }),
      "failed",
    );
  });
});
