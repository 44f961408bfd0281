import assert from "node:assert/strict";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import {
  claimTask,
  completeTask,
  enqueueTasks,
  failExpiredLeases,
  failTask,
  fetchUnhandled,
  frameUsers,
  handleResult,
  intakeBacklog,
  LeaseLostError,
  type NewTask,
  recoverInterrupted,
  SEED_CLEANUP_QUERY,
  type TaskRow,
} from "../../src/graph/task_store.ts";
import { registerVideo, setVideoStatus } from "../../src/graph/video_store.ts";
import { withGraphDb } from "../support/graph_db.ts";

const REF0 = "frames/v1/000000.ppm";
const REF1 = "frames/v1/000001.ppm";
/** Enqueue options used unless a test says otherwise. */
const ENQ = { now: 1000, maxAttempts: 3 };

/** A vehicle_detect task of frame 0 of clip v1, with overrides. */
function newTask(overrides: Partial<NewTask> = {}): NewTask {
  return {
    category: "vehicle_detect",
    payloadRef: REF0,
    videoId: "v1",
    frameIdx: 0,
    trackId: null,
    meta: {},
    dependencies: [REF0],
    ...overrides,
  };
}

function row(db: DatabaseSync, id: number): TaskRow {
  const r = db.prepare("SELECT * FROM tasks WHERE id = ?").get(id);
  assert.ok(r, `task ${id} exists`);
  return { ...r } as unknown as TaskRow; // node:sqlite rows have no prototype
}

function count(db: DatabaseSync, sql: string): number {
  const r = db.prepare(sql).get() as Record<string, SQLInputValue>;
  return Number(Object.values(r)[0]);
}

/** Seeds exact column values of one task (test-only SQL). */
function seed(
  db: DatabaseSync,
  id: number,
  fields: Record<string, SQLInputValue>,
): void {
  const keys = Object.keys(fields);
  const sets = keys.map((k) => `${k} = ?`).join(", ");
  db.prepare(`UPDATE tasks SET ${sets} WHERE id = ?`).run(
    ...keys.map((k) => fields[k]),
    id,
  );
}

function resultsOf(
  db: DatabaseSync,
  taskId: number,
): Array<{ id: number; result: string; handled: number }> {
  const rows = db.prepare(
    "SELECT id, result, handled FROM results WHERE task_id = ? ORDER BY id",
  ).all(taskId);
  return rows.map((r) => ({ ...r })) as unknown as Array<
    { id: number; result: string; handled: number }
  >;
}

// --- enqueueTasks -----------------------------------------------------------

Deno.test("`enqueueTasks()` stores the seed columns and the queue defaults", () => {
  withGraphDb((db) => {
    const n = enqueueTasks(db, [
      newTask({ meta: { note: "x" }, priority: 4 }),
    ], ENQ);
    assert.equal(n, 1);
    const r = row(db, 1);
    assert.equal(r.category, "vehicle_detect");
    assert.equal(r.payload, '{"payload_ref":"frames/v1/000000.ppm"}');
    assert.equal(r.priority, 4);
    assert.equal(r.video_id, "v1");
    assert.equal(r.frame_idx, 0);
    assert.equal(r.track_id, null);
    assert.equal(r.meta, '{"note":"x"}');
    assert.equal(r.dependencies, '["frames/v1/000000.ppm"]');
    assert.equal(r.status, "queued");
    assert.equal(r.attempts, 0);
    assert.equal(r.max_attempts, 3);
    assert.equal(r.interrupts, 0);
    assert.equal(r.lease_owner, null);
    assert.equal(r.lease_until, null);
    assert.equal(r.run_at, 0);
    assert.equal(r.last_error, null);
    assert.equal(r.created_at, 1000);
    assert.equal(r.finished_at, null);
  });
});

Deno.test("`enqueueTasks()` skips a task whose (category, video_id, frame_idx, track_id) exists", () => {
  withGraphDb((db) => {
    const frames = [newTask({ frameIdx: 0 }), newTask({ frameIdx: 1 })];
    assert.equal(enqueueTasks(db, frames, ENQ), 2);
    assert.equal(enqueueTasks(db, frames, ENQ), 0);
    // Same identity, different meta and payload: still skipped, first kept.
    assert.equal(
      enqueueTasks(db, [newTask({ meta: { other: 1 }, payloadRef: REF1 })], {
        now: 5000,
        maxAttempts: 9,
      }),
      0,
    );
    assert.equal(row(db, 1).meta, "{}");
    assert.equal(row(db, 1).created_at, 1000);
    // Any one identity column differing makes a new task.
    assert.equal(enqueueTasks(db, [newTask({ videoId: "v2" })], ENQ), 1);
    assert.equal(
      enqueueTasks(db, [newTask({ category: "plate_detect" })], ENQ),
      1,
    );
    assert.equal(enqueueTasks(db, [newTask({ trackId: 5 })], ENQ), 1);
    assert.equal(count(db, "SELECT COUNT(*) FROM tasks"), 5);
  });
});

Deno.test("`enqueueTasks()` is idempotent with NULL frame_idx and track_id", () => {
  withGraphDb((db) => {
    const smooth = newTask({
      category: "plate_smooth",
      payloadRef: "video:v1",
      frameIdx: null,
      trackId: null,
      dependencies: [],
    });
    // Plain UNIQUE would let NULLs repeat; the COALESCE index must not.
    assert.equal(enqueueTasks(db, [smooth], ENQ), 1);
    assert.equal(enqueueTasks(db, [smooth], ENQ), 0);
    assert.equal(enqueueTasks(db, [smooth, smooth], ENQ), 0);
    const summary = { ...smooth, category: "summary" as const };
    assert.equal(enqueueTasks(db, [{ ...summary, trackId: 3 }], ENQ), 1);
    assert.equal(enqueueTasks(db, [{ ...summary, trackId: 3 }], ENQ), 0);
    assert.equal(enqueueTasks(db, [{ ...summary, trackId: 4 }], ENQ), 1);
    // frame_idx NULL and frame_idx 0 are different identities.
    assert.equal(enqueueTasks(db, [{ ...smooth, frameIdx: 0 }], ENQ), 1);
    assert.equal(count(db, "SELECT COUNT(*) FROM tasks"), 4);
  });
});

// --- claimTask ----------------------------------------------------------------

Deno.test("`claimTask()` claims by priority then id, counting the attempt and stamping the lease", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [
      newTask({ frameIdx: 0, priority: 0 }), // id 1
      newTask({ frameIdx: 1, priority: 5 }), // id 2
      newTask({ frameIdx: 2, priority: 5 }), // id 3
      newTask({ frameIdx: 3, category: "ocr", priority: 9 }), // id 4
    ], ENQ);
    const opts = {
      category: "vehicle_detect" as const,
      owner: "w1",
      now: 2000,
      leaseMs: 500,
    };
    const first = claimTask(db, opts);
    assert.ok(first);
    assert.equal(first.id, 2);
    assert.equal(first.attempts, 1);
    assert.equal(first.lease_owner, "w1");
    assert.equal(first.lease_until, 2500);
    assert.equal(first.status, "queued");
    assert.deepEqual(row(db, 2), { ...first });
    assert.equal(claimTask(db, opts)?.id, 3);
    assert.equal(claimTask(db, opts)?.id, 1);
    // The ocr task is never handed to a vehicle_detect claimer.
    assert.equal(claimTask(db, opts), null);
    assert.equal(row(db, 4).attempts, 0);
  });
});

Deno.test("`claimTask()` skips a row leased by another owner until its lease has expired", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    const base = { category: "vehicle_detect" as const, leaseMs: 500 };
    assert.equal(claimTask(db, { ...base, owner: "a", now: 1000 })?.id, 1);
    // lease_until = 1500; the lease holds up to and including 1500.
    assert.equal(claimTask(db, { ...base, owner: "b", now: 1400 }), null);
    assert.equal(claimTask(db, { ...base, owner: "b", now: 1500 }), null);
    const taken = claimTask(db, { ...base, owner: "b", now: 1501 });
    assert.ok(taken);
    assert.equal(taken.id, 1);
    assert.equal(taken.attempts, 2);
    assert.equal(taken.lease_owner, "b");
    assert.equal(taken.lease_until, 2001);
  });
});

Deno.test("`claimTask()` skips rows whose run_at is in the future", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    seed(db, 1, { run_at: 2000 });
    const opts = {
      category: "vehicle_detect" as const,
      owner: "w",
      leaseMs: 10,
    };
    assert.equal(claimTask(db, { ...opts, now: 1999 }), null);
    assert.equal(row(db, 1).attempts, 0);
    assert.equal(claimTask(db, { ...opts, now: 2000 })?.id, 1);
  });
});

Deno.test("`claimTask()` skips rows with attempts >= max_attempts", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], { now: 0, maxAttempts: 1 });
    const opts = {
      category: "vehicle_detect" as const,
      owner: "w",
      leaseMs: 10,
    };
    assert.equal(claimTask(db, { ...opts, now: 100 })?.attempts, 1);
    // The lease expired (110 < 1000), but the only attempt is spent.
    assert.equal(claimTask(db, { ...opts, now: 1000 }), null);
    seed(db, 1, { lease_owner: null, lease_until: null, attempts: 5 });
    assert.equal(claimTask(db, { ...opts, now: 1000 }), null);
    assert.equal(row(db, 1).attempts, 5);
  });
});

Deno.test("`claimTask()` skips tasks that are done or failed", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask({ frameIdx: 0 }), newTask({ frameIdx: 1 })], ENQ);
    seed(db, 1, { status: "done" });
    seed(db, 2, { status: "failed" });
    assert.equal(
      claimTask(db, {
        category: "vehicle_detect",
        owner: "w",
        now: 5000,
        leaseMs: 10,
      }),
      null,
    );
  });
});

// --- completeTask ---------------------------------------------------------------

const CLAIM = {
  category: "vehicle_detect" as const,
  owner: "a",
  now: 1000,
  leaseMs: 100,
};

Deno.test("`completeTask()` stores the result and marks the task done", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    claimTask(db, CLAIM);
    completeTask(db, {
      taskId: 1,
      owner: "a",
      result: { boxes: [[1, 2, 3, 4]] },
      now: 1050,
    });
    const r = row(db, 1);
    assert.equal(r.status, "done");
    assert.equal(r.lease_owner, null);
    assert.equal(r.lease_until, null);
    assert.equal(r.finished_at, 1050);
    assert.equal(r.attempts, 1);
    assert.deepEqual(resultsOf(db, 1), [
      { id: 1, result: '{"boxes":[[1,2,3,4]]}', handled: 0 },
    ]);
  });
});

Deno.test("`completeTask()` rolls back the status when the result cannot be stored", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    claimTask(db, CLAIM);
    // A stray result for the task makes the INSERT hit results_task (unique).
    db.prepare("INSERT INTO results (task_id, result) VALUES (1, 'stray')")
      .run();
    assert.throws(
      () => completeTask(db, { taskId: 1, owner: "a", result: 1, now: 1050 }),
      /UNIQUE/,
    );
    const r = row(db, 1);
    assert.equal(r.status, "queued");
    assert.equal(r.lease_owner, "a");
    assert.equal(r.finished_at, null);
    assert.equal(db.isTransaction, false);
  });
});

Deno.test("`completeTask()` throws LeaseLostError and writes nothing when another owner took the lease", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    claimTask(db, CLAIM); // a holds it until 1100
    claimTask(db, { ...CLAIM, owner: "b", now: 1101 }); // b takes it over
    assert.throws(
      () => completeTask(db, { taskId: 1, owner: "a", result: 1, now: 1102 }),
      (err: unknown) =>
        err instanceof LeaseLostError &&
        err.message === "Cannot complete task 1: lease no longer held by a",
    );
    const r = row(db, 1);
    assert.equal(r.status, "queued");
    assert.equal(r.lease_owner, "b");
    assert.equal(r.lease_until, 1201);
    assert.equal(r.finished_at, null);
    assert.equal(count(db, "SELECT COUNT(*) FROM results"), 0);
    // The new owner can still complete it.
    completeTask(db, { taskId: 1, owner: "b", result: 2, now: 1103 });
    assert.equal(row(db, 1).status, "done");
    assert.deepEqual(resultsOf(db, 1).map((x) => x.result), ["2"]);
  });
});

Deno.test("`completeTask()` throws LeaseLostError on a task that is already done", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    claimTask(db, CLAIM);
    completeTask(db, { taskId: 1, owner: "a", result: 1, now: 1010 });
    assert.throws(
      () => completeTask(db, { taskId: 1, owner: "a", result: 2, now: 1020 }),
      LeaseLostError,
    );
    assert.equal(row(db, 1).finished_at, 1010);
    assert.deepEqual(resultsOf(db, 1).map((x) => x.result), ["1"]);
  });
});

// --- failTask -------------------------------------------------------------------

Deno.test("`failTask()` stores the error, releases the lease and backs off 2^(attempts-1)", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ); // max_attempts 3
    const claim = (now: number) =>
      claimTask(db, { ...CLAIM, now, leaseMs: 60_000 });
    const fail = (now: number, error: string) =>
      failTask(db, { taskId: 1, owner: "a", error, now, backoffMs: 1000 });

    assert.equal(claim(10_000)?.attempts, 1);
    assert.equal(fail(10_050, "boom 1"), "queued");
    let r = row(db, 1);
    assert.equal(r.last_error, "boom 1");
    assert.equal(r.lease_owner, null);
    assert.equal(r.lease_until, null);
    assert.equal(r.run_at, 10_050 + 1000); // 1000 * 2^0
    assert.equal(r.status, "queued");
    assert.equal(r.finished_at, null);

    assert.equal(claim(11_049), null);
    assert.equal(claim(11_050)?.attempts, 2);
    assert.equal(fail(11_100, "boom 2"), "queued");
    assert.equal(row(db, 1).run_at, 11_100 + 2000); // 1000 * 2^1

    assert.equal(claim(13_099), null);
    assert.equal(claim(13_100)?.attempts, 3);
    assert.equal(fail(13_200, "boom 3"), "failed");
    r = row(db, 1);
    assert.equal(r.status, "failed");
    assert.equal(r.last_error, "boom 3");
    assert.equal(r.finished_at, 13_200);
    assert.equal(r.run_at, 13_200 + 4000); // 1000 * 2^2
    assert.equal(r.lease_owner, null);
    assert.equal(claim(1_000_000), null);
  });
});

Deno.test("`failTask()` returns null and changes nothing when the lease was lost", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [newTask()], ENQ);
    claimTask(db, CLAIM); // a until 1100
    claimTask(db, { ...CLAIM, owner: "b", now: 1200 }); // b until 1300
    const before = row(db, 1);
    assert.equal(
      failTask(db, {
        taskId: 1,
        owner: "a",
        error: "late",
        now: 1210,
        backoffMs: 1000,
      }),
      null,
    );
    assert.deepEqual(row(db, 1), before);
    assert.equal(before.lease_owner, "b");
    assert.equal(before.last_error, null);
  });
});

// --- failExpiredLeases ------------------------------------------------------------

Deno.test("`failExpiredLeases()` fails only queued rows with expired leases on their last attempt", () => {
  withGraphDb((db) => {
    const tasks = [0, 1, 2, 3, 4, 5, 6].map((i) => newTask({ frameIdx: i }));
    enqueueTasks(db, tasks, ENQ); // ids 1..7, max_attempts 3
    const leased = { lease_owner: "w", status: "queued" };
    seed(db, 1, { ...leased, attempts: 3, lease_until: 500 }); // fails
    seed(db, 2, {
      ...leased,
      attempts: 3,
      lease_until: 500,
      last_error: "boom",
    }); // fails
    seed(db, 3, { ...leased, attempts: 2, lease_until: 500 }); // may retry
    seed(db, 4, { ...leased, attempts: 3, lease_until: 2000 }); // still held
    seed(db, 5, { ...leased, attempts: 3, lease_until: 1000 }); // expires after 1000
    seed(db, 6, { attempts: 3 }); // not leased
    seed(db, 7, { ...leased, status: "done", attempts: 3, lease_until: 500 });
    const before = [3, 4, 5, 6, 7].map((id) => row(db, id));

    assert.equal(failExpiredLeases(db, { now: 1000 }), 2);

    const r1 = row(db, 1);
    assert.equal(r1.status, "failed");
    assert.equal(r1.finished_at, 1000);
    assert.equal(r1.lease_owner, null);
    assert.equal(r1.lease_until, null);
    assert.equal(r1.last_error, "worker lost on attempt 3 (lease expired)");
    assert.equal(
      row(db, 2).last_error,
      "boom; worker lost on attempt 3 (lease expired)",
    );
    assert.deepEqual([3, 4, 5, 6, 7].map((id) => row(db, id)), before);
    assert.equal(failExpiredLeases(db, { now: 1000 }), 0);
  });
});

// --- recoverInterrupted -------------------------------------------------------------

Deno.test("`recoverInterrupted()` releases held leases with the attempt given back", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [0, 1, 2, 3].map((i) => newTask({ frameIdx: i })), ENQ);
    seed(db, 1, { lease_owner: "old", lease_until: 99_999, attempts: 1 });
    seed(db, 2, {
      lease_owner: "old",
      lease_until: 10,
      attempts: 2,
      interrupts: 1,
    });
    seed(db, 3, { attempts: 1 }); // queued, not leased: untouched
    seed(db, 4, { status: "done", attempts: 1 }); // untouched
    const untouched = [3, 4].map((id) => row(db, id));

    const out = recoverInterrupted(db, { now: 5000, maxInterrupts: 3 });
    assert.deepEqual(out, { released: 2, failed: 0 });

    const r1 = row(db, 1);
    assert.equal(r1.status, "queued");
    assert.equal(r1.lease_owner, null);
    assert.equal(r1.lease_until, null);
    assert.equal(r1.attempts, 0);
    assert.equal(r1.interrupts, 1);
    const r2 = row(db, 2);
    assert.equal(r2.attempts, 1);
    assert.equal(r2.interrupts, 2);
    assert.equal(r2.lease_owner, null);
    assert.deepEqual([3, 4].map((id) => row(db, id)), untouched);

    // Nothing is held any more: a second recovery changes nothing.
    assert.deepEqual(recoverInterrupted(db, { now: 6000, maxInterrupts: 3 }), {
      released: 0,
      failed: 0,
    });
    assert.equal(row(db, 1).interrupts, 1);
    // The released task is claimable at once (lease_until is cleared).
    assert.equal(
      claimTask(db, { ...CLAIM, now: 6000 })?.id,
      1,
    );
  });
});

Deno.test("`recoverInterrupted()` fails a task whose interrupts reach maxInterrupts", () => {
  withGraphDb((db) => {
    enqueueTasks(db, [0, 1].map((i) => newTask({ frameIdx: i })), ENQ);
    seed(db, 1, {
      lease_owner: "old",
      lease_until: 99_999,
      attempts: 2,
      interrupts: 2,
      last_error: "boom",
    });
    seed(db, 2, {
      lease_owner: "old",
      lease_until: 99_999,
      attempts: 1,
      interrupts: 1,
    });

    const out = recoverInterrupted(db, { now: 5000, maxInterrupts: 3 });
    assert.deepEqual(out, { released: 1, failed: 1 });

    const r1 = row(db, 1);
    assert.equal(r1.status, "failed");
    assert.equal(r1.interrupts, 3);
    assert.equal(r1.attempts, 2); // not given back: it will not run again
    assert.equal(r1.finished_at, 5000);
    assert.equal(r1.lease_owner, null);
    assert.equal(r1.lease_until, null);
    assert.equal(r1.last_error, "boom; process died while running it 3 times");
    const r2 = row(db, 2);
    assert.equal(r2.status, "queued");
    assert.equal(r2.interrupts, 2);
    assert.equal(r2.attempts, 0);
  });
});

// --- fetchUnhandled + handleResult -------------------------------------------------

/** Enqueues frame tasks 0..n-1, claims and completes each with `{frame: i}`. */
function completeFrames(db: DatabaseSync, n: number): void {
  enqueueTasks(
    db,
    Array.from({ length: n }, (_, i) => newTask({ frameIdx: i })),
    ENQ,
  );
  for (let i = 0; i < n; i++) {
    const t = claimTask(db, CLAIM);
    assert.ok(t);
    completeTask(db, {
      taskId: t.id,
      owner: "a",
      result: { frame: t.frame_idx },
      now: 1001,
    });
  }
}

Deno.test("`fetchUnhandled()` returns unhandled results with their tasks, oldest first, up to limit", () => {
  withGraphDb((db) => {
    completeFrames(db, 3);
    const got = fetchUnhandled(db, { limit: 2 });
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((g) => g.resultId), [1, 2]);
    assert.deepEqual(got.map((g) => g.result), [{ frame: 0 }, { frame: 1 }]);
    assert.deepEqual({ ...got[0].task }, row(db, 1));
    assert.equal(got[1].task.id, 2);
    assert.equal(got[1].task.status, "done");
    assert.equal(fetchUnhandled(db, { limit: 10 }).length, 3);
  });
});

Deno.test("`handleResult()` inserts the children and sets handled = 1; a second call returns -1", () => {
  withGraphDb((db) => {
    completeFrames(db, 1);
    const [u] = fetchUnhandled(db, { limit: 10 });
    const child = newTask({ category: "plate_detect", meta: { box: [1] } });
    const n = handleResult(db, {
      resultId: u.resultId,
      children: [child, { ...child, trackId: 2 }],
      now: 2000,
      maxAttempts: 4,
    });
    assert.equal(n, 2);
    assert.deepEqual(resultsOf(db, 1).map((r) => r.handled), [1]);
    const kids = db.prepare(
      "SELECT category, track_id, meta, max_attempts, created_at FROM tasks WHERE id > 1 ORDER BY id",
    ).all();
    assert.deepEqual(kids.map((k) => ({ ...k })), [
      {
        category: "plate_detect",
        track_id: null,
        meta: '{"box":[1]}',
        max_attempts: 4,
        created_at: 2000,
      },
      {
        category: "plate_detect",
        track_id: 2,
        meta: '{"box":[1]}',
        max_attempts: 4,
        created_at: 2000,
      },
    ]);
    assert.deepEqual(fetchUnhandled(db, { limit: 10 }), []);
    // Handling again creates nothing, even children that would be new.
    const again = handleResult(db, {
      resultId: u.resultId,
      children: [newTask({ category: "ocr" })],
      now: 3000,
      maxAttempts: 4,
    });
    assert.equal(again, -1);
    assert.equal(count(db, "SELECT COUNT(*) FROM tasks"), 3);
  });
});

Deno.test("`handleResult()` leaves the result unhandled and inserts nothing when a child fails", () => {
  withGraphDb((db) => {
    completeFrames(db, 1);
    const good = newTask({ category: "plate_detect" });
    // JSON.stringify throws on a BigInt, after the first child was inserted.
    const bad = newTask({
      category: "plate_detect",
      trackId: 9,
      meta: { n: 1n },
    });
    assert.throws(
      () =>
        handleResult(db, {
          resultId: 1,
          children: [good, bad],
          now: 2000,
          maxAttempts: 3,
        }),
      TypeError,
    );
    assert.equal(count(db, "SELECT COUNT(*) FROM tasks"), 1);
    assert.deepEqual(resultsOf(db, 1).map((r) => r.handled), [0]);
    assert.equal(fetchUnhandled(db, { limit: 10 }).length, 1);
    assert.equal(db.isTransaction, false);
  });
});

// --- frameUsers / SEED_CLEANUP_QUERY --------------------------------------------------

Deno.test("`frameUsers()` counts dependents that are queued or have an unhandled result", () => {
  withGraphDb((db) => {
    // T1 vehicle_detect, done and handled; T2 plate_detect of the same frame.
    completeFrames(db, 1);
    handleResult(db, {
      resultId: 1,
      children: [newTask({ category: "plate_detect" })],
      now: 1002,
      maxAttempts: 3,
    });
    // A queued task of another frame never counts for REF0.
    enqueueTasks(
      db,
      [newTask({ frameIdx: 1, payloadRef: REF1, dependencies: [REF1] })],
      ENQ,
    );
    const users = (excludeTaskId: number) =>
      frameUsers(db, { ref: REF0, excludeTaskId });

    assert.equal(users(1), 1); // T2 is queued
    assert.equal(users(2), 0); // T2 excluded; T1 done and handled
    const t2 = claimTask(db, {
      ...CLAIM,
      category: "plate_detect",
      now: 1003,
    });
    assert.equal(t2?.id, 2);
    assert.equal(users(1), 1); // leased is still queued
    completeTask(db, { taskId: 2, owner: "a", result: {}, now: 1004 });
    assert.equal(users(1), 1); // done, but its result is unhandled
    const u = fetchUnhandled(db, { limit: 10 });
    assert.deepEqual(u.map((x) => x.task.id), [2]);
    assert.equal(
      handleResult(db, { resultId: u[0].resultId, children: [], ...ENQ }),
      0,
    );
    assert.equal(users(1), 0);
    assert.equal(users(2), 0);
    assert.equal(frameUsers(db, { ref: REF1, excludeTaskId: 1 }), 1);
  });
});

Deno.test("`frameUsers()` keeps counting a failed dependent, as the seed query does", () => {
  // The seed query counts every dependent whose status != 'done'. A task that
  // ended 'failed' therefore keeps its frame "in use" for good: the query's
  // meaning, kept verbatim. Frames of failed tasks are removed by the clip's
  // pruning, not by this query.
  withGraphDb((db) => {
    completeFrames(db, 1);
    handleResult(db, {
      resultId: 1,
      children: [newTask({ category: "plate_detect" })],
      ...ENQ,
    });
    seed(db, 2, { status: "failed", last_error: "boom" });
    assert.equal(frameUsers(db, { ref: REF0, excludeTaskId: 1 }), 1);
  });
});

Deno.test("`frameUsers()` matches the whole quoted ref, not a prefix of another", () => {
  withGraphDb((db) => {
    const longer = "frames/v1/000000.ppm.bak";
    enqueueTasks(db, [newTask({ dependencies: [longer] })], ENQ);
    assert.equal(frameUsers(db, { ref: REF0, excludeTaskId: 0 }), 0);
    assert.equal(frameUsers(db, { ref: longer, excludeTaskId: 0 }), 1);
  });
});

Deno.test("`SEED_CLEANUP_QUERY` is the query of seed-schema.md section 2.3", async () => {
  const md = await Deno.readTextFile(
    new URL("../../../shared/seed-schema.md", import.meta.url),
  );
  const blocks = [...md.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1);
  assert.match(blocks[0], /^SELECT COUNT\(\*\)/);
  assert.equal(SEED_CLEANUP_QUERY.trim(), blocks[0].trim());
});

Deno.test("`intakeBacklog()` counts queued tasks plus the frames of clips not decoded yet", () => {
  withGraphDb((db) => {
    assert.equal(intakeBacklog(db), 0);
    // 3 s at 5 fps, nothing decoded: 15 frames to come.
    registerVideo(db, {
      video_id: "v1",
      path: "/c/v1.mp4",
      duration_s: 3,
      sampling_fps: 5,
    }, { now: 1 });
    assert.equal(intakeBacklog(db), 15);
    // 2.1 s at 5 fps: 10.5 frames, rounded up.
    registerVideo(db, {
      video_id: "v2",
      path: "/c/v2.mp4",
      duration_s: 2.1,
      sampling_fps: 5,
    }, { now: 1 });
    assert.equal(intakeBacklog(db), 15 + 11);
    // Decoding v1: four frames became tasks (queued, or already done).
    setVideoStatus(db, { videoId: "v1", status: "decoding", now: 2 });
    enqueueTasks(
      db,
      [0, 1, 2, 3].map((i) => newTask({ frameIdx: i })),
      ENQ,
    );
    seed(db, 1, { status: "done" });
    assert.equal(intakeBacklog(db), 3 + 11 + 11);
    // Decoded: only its queued tasks count (children included).
    setVideoStatus(db, { videoId: "v1", status: "decoded", now: 3 });
    enqueueTasks(db, [newTask({ category: "plate_detect", frameIdx: 0 })], ENQ);
    assert.equal(intakeBacklog(db), 4 + 11);
    // Finished clips count nothing.
    setVideoStatus(db, { videoId: "v2", status: "failed", now: 4 });
    assert.equal(intakeBacklog(db), 4);
  });
});
