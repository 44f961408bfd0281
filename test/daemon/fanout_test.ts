import assert from "node:assert/strict";
import {
  childrenOf,
  clipRef,
  FRAME_CATEGORIES,
  frameRef,
  frameTask,
  plateSmoothTask,
} from "../../src/daemon/fanout.ts";
import type { TaskRow } from "../../src/graph/mod.ts";
import type { TaskCategory } from "../../src/shared/mod.ts";

const REF = "frames/abc/000003.ppm";

/** A done task row of clip abc, frame 3, as the store returns it. */
function taskRow(category: TaskCategory, over: Partial<TaskRow> = {}): TaskRow {
  return {
    id: 11,
    category,
    payload: JSON.stringify({ payload_ref: REF }),
    priority: 2,
    video_id: "abc",
    frame_idx: 3,
    track_id: null,
    meta: "{}",
    dependencies: JSON.stringify([REF]),
    status: "done",
    attempts: 1,
    max_attempts: 3,
    interrupts: 0,
    lease_owner: null,
    lease_until: null,
    run_at: 0,
    last_error: null,
    created_at: 1,
    finished_at: 2,
    ...over,
  };
}

Deno.test("`childrenOf()` makes one plate_detect child per vehicle, on the same frame", () => {
  const kids = childrenOf(taskRow("vehicle_detect"), {
    next: [{ meta: { car: [1, 2, 3, 4] } }, {
      meta: { car: [5, 6, 7, 8] },
      trackId: 7,
    }],
  });
  assert.deepEqual(kids, [
    {
      category: "plate_detect",
      payloadRef: REF,
      videoId: "abc",
      frameIdx: 3,
      trackId: null,
      meta: { car: [1, 2, 3, 4] },
      dependencies: [REF],
      priority: 2,
    },
    {
      category: "plate_detect",
      payloadRef: REF,
      videoId: "abc",
      frameIdx: 3,
      trackId: 7,
      meta: { car: [5, 6, 7, 8] },
      dependencies: [REF],
      priority: 2,
    },
  ]);
});

Deno.test("`childrenOf()` makes ocr children of plate_detect", () => {
  const kids = childrenOf(taskRow("plate_detect"), {
    next: [{ meta: { plate: [1, 1, 2, 2] } }],
  });
  assert.equal(kids.length, 1);
  assert.equal(kids[0].category, "ocr");
  assert.deepEqual(kids[0].meta, { plate: [1, 1, 2, 2] });
  assert.deepEqual(kids[0].dependencies, [REF]);
});

Deno.test("`childrenOf()` makes nothing for ocr and summary, even with `next`", () => {
  const next = [{ meta: {}, trackId: 1 }];
  assert.deepEqual(childrenOf(taskRow("ocr"), { next }), []);
  assert.deepEqual(childrenOf(taskRow("summary"), { next }), []);
});

Deno.test("`childrenOf()` makes nothing without a `next` list", () => {
  assert.deepEqual(childrenOf(taskRow("vehicle_detect"), {}), []);
  assert.deepEqual(childrenOf(taskRow("vehicle_detect"), { next: [] }), []);
  assert.deepEqual(
    childrenOf(taskRow("vehicle_detect"), { next: "x" as unknown as [] }),
    [],
  );
});

Deno.test("`childrenOf()` makes one summary per track of plate_smooth, with the child's frame", () => {
  const smooth = taskRow("plate_smooth", {
    payload: JSON.stringify({ payload_ref: "video:abc" }),
    frame_idx: null,
    dependencies: "[]",
    priority: 0,
  });
  const kids = childrenOf(smooth, {
    next: [
      { trackId: 1, frameIdx: 12, meta: { plate: "AB12CDE" } },
      { trackId: 2, meta: {} },
    ],
  });
  assert.deepEqual(kids, [
    {
      category: "summary",
      payloadRef: "video:abc",
      videoId: "abc",
      frameIdx: 12,
      trackId: 1,
      meta: { plate: "AB12CDE" },
      dependencies: [],
      priority: 0,
    },
    {
      category: "summary",
      payloadRef: "video:abc",
      videoId: "abc",
      frameIdx: null, // the parent's
      trackId: 2,
      meta: {},
      dependencies: [],
      priority: 0,
    },
  ]);
});

Deno.test("`childrenOf()` lets a child set frameIdx to null explicitly", () => {
  const kids = childrenOf(taskRow("vehicle_detect"), {
    next: [{ frameIdx: null, meta: {} }],
  });
  assert.equal(kids[0].frameIdx, null);
});

Deno.test("`childrenOf()` throws TypeError for a summary child without trackId", () => {
  const smooth = taskRow("plate_smooth", { frame_idx: null });
  for (const child of [{ meta: {} }, { meta: {}, trackId: null }]) {
    assert.throws(
      () => childrenOf(smooth, { next: [{ trackId: 1, meta: {} }, child] }),
      (err: unknown) =>
        err instanceof TypeError &&
        err.message ===
          "Cannot create summary task for clip abc: child has no trackId",
    );
  }
});

Deno.test("`frameRef()` pads the index to six digits and never truncates", () => {
  assert.equal(frameRef("abc", 0), "frames/abc/000000.ppm");
  assert.equal(frameRef("abc", 7), "frames/abc/000007.ppm");
  assert.equal(frameRef("abc", 123456), "frames/abc/123456.ppm");
  assert.equal(frameRef("abc", 1234567), "frames/abc/1234567.ppm");
});

Deno.test("`frameTask()` is a vehicle_detect task depending on its own frame", () => {
  assert.deepEqual(frameTask("abc", 42), {
    category: "vehicle_detect",
    payloadRef: "frames/abc/000042.ppm",
    videoId: "abc",
    frameIdx: 42,
    trackId: null,
    meta: {},
    dependencies: ["frames/abc/000042.ppm"],
  });
});

Deno.test("`plateSmoothTask()` is the clip-level task with the clip's ref", () => {
  assert.equal(clipRef("abc"), "video:abc");
  assert.deepEqual(plateSmoothTask("abc"), {
    category: "plate_smooth",
    payloadRef: "video:abc",
    videoId: "abc",
    frameIdx: null,
    trackId: null,
    meta: {},
    dependencies: [],
  });
  assert.deepEqual(FRAME_CATEGORIES, ["vehicle_detect", "plate_detect", "ocr"]);
});
