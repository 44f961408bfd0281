import assert from "node:assert/strict";
import type { Box } from "../../../src/shared/mod.ts";
import type {
  StageContext,
  StageOutput,
  StageTask,
} from "../../../src/shared/mod.ts";
import { createStageHandler } from "../../../src/vision/stages/mod.ts";
import { TEST_MODELS } from "../../support/shared.ts";

const CAR: Box = [40, 40, 220, 200];
const OTHER: Box = [400, 200, 600, 360];

/** A stored `ocr` result: one confident read of the plate on CAR. */
function ocrResult(
  frameIdx: number,
): { frameIdx: number; result: StageOutput } {
  const text = "AB123CD";
  return {
    frameIdx,
    result: {
      reads: [{
        frameIdx,
        plateBox: [100, 100, 160, 120],
        carBox: CAR,
        carFound: true,
        detScore: 0.9,
        read: { text, confidence: 0.95, charProbs: [...text].map(() => 0.95) },
      }],
    },
  };
}

/** A context whose clip has settled reads in frames 0-2; reading the frame (running the detector) throws. */
function context(asked: string[]): StageContext {
  return {
    dataDir: "/nonexistent",
    log: { debug() {}, info() {}, warn() {}, error() {} },
    readFrame() {
      throw new Error("the plate detector ran");
    },
    clipResults: () => [],
    recentResults(category, frames) {
      asked.push(`${category} ${frames.fromFrame}-${frames.toFrame}`);
      return category === "ocr" ? [0, 1, 2].map(ocrResult) : [];
    },
    clip: () => null,
  } as StageContext;
}

/** A handler's init: the tests' models, one native thread, 5 fps, a silent log. */
function handlerInit(options: Record<string, unknown>) {
  return {
    dataDir: "/nonexistent",
    modelsDir: TEST_MODELS,
    backend: "native" as const,
    threads: 1,
    samplingFps: 5,
    options,
    log: { debug() {}, info() {}, warn() {}, error() {} },
  };
}

function task(frameIdx: number, cars: Box[]): StageTask {
  return {
    id: 1,
    category: "plate_detect",
    videoId: "v1",
    frameIdx,
    trackId: null,
    payloadRef: `frames/v1/${frameIdx}.ppm`,
    meta: { vehicles: cars.map((box) => ({ box, score: 0.9, classId: 2 })) },
    attempt: 1,
  };
}

Deno.test("plate_detect stage with skipping leaves out a frame whose every vehicle holds a settled plate, and runs on the others", async () => {
  const handler = await createStageHandler(
    "plate_detect",
    handlerInit({ skip_settled_plates: true }),
  );
  try {
    const asked: string[] = [];
    assert.deepEqual(await handler.run(task(4, [CAR]), context(asked)), {
      plates: 0,
      settled: true,
      next: [],
    });
    assert.deepEqual(asked, ["ocr 0-3"], "the reads of the frames before");
    for (const t of [task(4, [CAR, OTHER]), task(4, []), task(14, [CAR])]) {
      await assert.rejects(
        async () => await handler.run(t, context([])),
        /the plate detector ran/,
      );
    }
  } finally {
    await handler.close?.();
  }
  const off = await createStageHandler("plate_detect", handlerInit({}));
  try {
    await assert.rejects(
      async () => await off.run(task(4, [CAR]), context([])),
      /the plate detector ran/,
      "skipping off: the detector always runs",
    );
  } finally {
    await off.close?.();
  }
});

Deno.test("plate_smooth stage gives a track the span of its vehicle, not only of its reads", async () => {
  const handler = await createStageHandler("plate_smooth", handlerInit({}));
  // Read in frames 8 and 10 only (its plate settled, or found only now and
  // then); its vehicle is detected in every processed frame 0-29.
  const detected = Array.from({ length: 30 }, (_, i) => ({
    task: task(i, [CAR, OTHER]),
    result: { plates: 1 },
  }));
  const ctx = {
    ...context([]),
    clipResults: (category: string) =>
      category === "ocr"
        ? [8, 10].map((i) => ({
          task: task(i, []),
          result: ocrResult(i).result,
        }))
        : category === "plate_detect"
        ? detected
        : [],
  } as StageContext;
  try {
    const out = await handler.run(
      { ...task(0, []), category: "plate_smooth", frameIdx: null, meta: {} },
      ctx,
    );
    const next = out.next as Array<{ meta: Record<string, unknown> }>;
    assert.equal(next.length, 1);
    assert.equal(next[0].meta.text, "AB123CD");
    assert.deepEqual([next[0].meta.firstFrame, next[0].meta.lastFrame], [
      0,
      29,
    ]);
  } finally {
    await handler.close?.();
  }
});
