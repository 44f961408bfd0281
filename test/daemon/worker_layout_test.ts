import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config/mod.ts";
import { workerSlots } from "../../src/daemon/worker_layout.ts";
import type { TaskCategory } from "../../src/shared/mod.ts";

const ONE: Record<TaskCategory, number> = {
  vehicle_detect: 1,
  plate_detect: 1,
  ocr: 1,
  plate_smooth: 1,
  summary: 1,
};

function names(slots: ReturnType<typeof workerSlots>): string[] {
  return slots.map((s) => `${s.categories.join("+")}:${s.index}`);
}

Deno.test("workerSlots without groups starts each stage's count of workers", () => {
  assert.deepEqual(
    names(workerSlots({ ...ONE, plate_detect: 2 }, { groups: [] })),
    [
      "vehicle_detect:0",
      "plate_detect:0",
      "plate_detect:1",
      "ocr:0",
      "plate_smooth:0",
      "summary:0",
    ],
  );
});

Deno.test("workerSlots serves a group's stages from one worker, in the group's order", () => {
  assert.deepEqual(
    names(
      workerSlots(ONE, {
        groups: [["ocr", "vehicle_detect"], ["plate_smooth", "summary"]],
      }),
    ),
    ["ocr+vehicle_detect:0", "plate_detect:0", "plate_smooth+summary:0"],
  );
});

Deno.test("workerSlots gives a group its largest count; extra workers serve only the stages counted that high", () => {
  assert.deepEqual(
    names(
      workerSlots({ ...ONE, vehicle_detect: 3, ocr: 2 }, {
        groups: [["ocr", "vehicle_detect"]],
      }),
    ),
    [
      "ocr+vehicle_detect:0",
      "ocr+vehicle_detect:1",
      "vehicle_detect:2",
      "plate_detect:0",
      "plate_smooth:0",
      "summary:0",
    ],
  );
});

Deno.test("workerSlots refuses a stage in two groups", () => {
  assert.throws(
    () => workerSlots(ONE, { groups: [["ocr", "summary"], ["summary"]] }),
    /'summary' is in two worker groups/,
  );
});

Deno.test("the default layout gives the plate detector a worker of its own and tries clip-end stages before frame stages", () => {
  const slots = workerSlots(DEFAULTS.workers, {
    groups: DEFAULTS.worker_groups,
  });
  assert.deepEqual(names(slots), [
    "plate_smooth+summary+ocr+vehicle_detect:0",
    "plate_detect:0",
  ]);
  // A backlog of frames must not hold back the events of finished clips:
  // the worker tries its stages in this order.
  const shared = slots[0].categories;
  for (const late of ["ocr", "vehicle_detect"] as const) {
    assert.ok(shared.indexOf("plate_smooth") < shared.indexOf(late));
    assert.ok(shared.indexOf("summary") < shared.indexOf(late));
  }
});
