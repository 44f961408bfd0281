/**
 * The trivial test stages (./trivial_handlers.ts) with faults chosen by the
 * clip's file name, so one daemon can run good and faulty clips side by side
 * without environment switches:
 *
 * - `hang-once` in the name: vehicle_detect on frame 2 blocks its worker's
 *   thread on the first attempt (a native call that never returns).
 * - `hang-always` in the name: vehicle_detect on frame 3 blocks on every attempt.
 * - `smooth-fails` in the name: plate_smooth throws, so the clip ends `failed`.
 * - `gated` in the name: vehicle_detect waits until the file `gate-open`
 *   exists in the data dir (the test holds the queue full, then opens it).
 *
 * Other clips behave exactly as with the trivial handlers.
 *
 * @module
 */
import { basename, join } from "node:path";
import type {
  CreateStageHandler,
  StageHandler,
  StageOutput,
} from "../../src/shared/mod.ts";
import {
  createStageHandler as trivial,
  fileAppears,
} from "./trivial_handlers.ts";

/** Blocks the calling worker thread for good (only `terminate()` ends it). */
function blockForever(): never {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}

/** Creates the faulty handler of a category. */
export const createStageHandler: CreateStageHandler = async (
  category,
  init,
): Promise<StageHandler> => {
  const inner = await trivial(category, init);
  return {
    async run(task, ctx): Promise<StageOutput> {
      const name = basename(ctx.clip()?.path ?? "");
      if (category === "vehicle_detect") {
        if (name.includes("gated")) {
          await fileAppears(join(ctx.dataDir, "gate-open"), Infinity);
        }
        if (
          (name.includes("hang-once") && task.frameIdx === 2 &&
            task.attempt === 1) ||
          (name.includes("hang-always") && task.frameIdx === 3)
        ) {
          blockForever();
        }
      }
      if (category === "plate_smooth" && name.includes("smooth-fails")) {
        throw new Error("planted plate_smooth failure");
      }
      return inner.run(task, ctx);
    },
    close: () => inner.close?.(),
  };
};
