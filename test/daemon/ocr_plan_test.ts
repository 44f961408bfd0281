import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import {
  claimTask,
  completeTask,
  enqueueTasks,
  type NewTask,
} from "../../src/graph/mod.ts";
import type { Box } from "../../src/shared/mod.ts";
import { planOcrTasks } from "../../src/daemon/ocr_plan.ts";
import { withGraphDb } from "../support/graph_db.ts";

const BOX: Box = [100, 100, 160, 120];

function ocrTask(frameIdx: number, boxes: Box[]): NewTask {
  const ref = `frames/v1/${String(frameIdx).padStart(6, "0")}.ppm`;
  return {
    category: "ocr",
    payloadRef: ref,
    videoId: "v1",
    frameIdx,
    trackId: null,
    meta: {
      plates: boxes.map((plateBox) => ({
        plateBox,
        score: 0.9,
        carBox: [40, 40, 220, 200],
        carFound: true,
      })),
    },
    dependencies: [ref],
  };
}

/** Runs the OCR task of a frame to `done` with one read per box. */
function readFrame(db: DatabaseSync, frameIdx: number, text: string): void {
  enqueueTasks(db, [ocrTask(frameIdx, [BOX])], { now: 0, maxAttempts: 3 });
  const row = claimTask(db, {
    category: "ocr",
    owner: "w",
    now: 1,
    leaseMs: 1000,
  });
  assert.ok(row);
  completeTask(db, {
    taskId: row.id,
    owner: "w",
    now: 2,
    result: {
      reads: [{
        frameIdx,
        plateBox: BOX,
        carBox: [40, 40, 220, 200],
        carFound: true,
        detScore: 0.9,
        read: { text, confidence: 0.95, charProbs: [...text].map(() => 0.95) },
      }],
    },
  });
}

Deno.test("planOcrTasks() reads a plate until its track has settled in pipeline.db, then drops it", () => {
  withGraphDb((db) => {
    const child = ocrTask(3, [BOX]);
    assert.equal(planOcrTasks(db, [child]).children.length, 1);
    readFrame(db, 0, "AB123CD");
    readFrame(db, 1, "AB123CD");
    assert.equal(planOcrTasks(db, [child]).children.length, 1);
    readFrame(db, 2, "AB123CD");
    const plan = planOcrTasks(db, [child]);
    assert.deepEqual(plan, { children: [], settled: 1 });
  });
});

Deno.test("planOcrTasks() keeps the plates no settled track holds, and reads again past the tracker's gap", () => {
  withGraphDb((db) => {
    for (const f of [0, 1, 2]) readFrame(db, f, "AB123CD");
    const other: Box = [400, 300, 460, 320];
    const plan = planOcrTasks(db, [ocrTask(4, [BOX, other])]);
    assert.equal(plan.settled, 1);
    assert.deepEqual(
      (plan.children[0].meta.plates as Array<{ plateBox: Box }>).map((p) =>
        p.plateBox
      ),
      [other],
    );
    // 10 frames strictly between two reads is the most the tracker bridges.
    assert.equal(planOcrTasks(db, [ocrTask(12, [BOX])]).children.length, 0);
    assert.equal(planOcrTasks(db, [ocrTask(13, [BOX])]).children.length, 1);
  });
});

Deno.test("planOcrTasks() counts only done reads of earlier frames of the same clip", () => {
  withGraphDb((db) => {
    for (const f of [4, 5, 6]) readFrame(db, f, "AB123CD");
    // Frame 3 was dispatched before frames 4-6 were read: those cannot decide it.
    assert.equal(planOcrTasks(db, [ocrTask(3, [BOX])]).children.length, 1);
    const otherClip = { ...ocrTask(7, [BOX]), videoId: "v2" };
    assert.equal(planOcrTasks(db, [otherClip]).children.length, 1);
  });
});
