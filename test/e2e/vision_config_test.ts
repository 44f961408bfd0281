/**
 * Config's `vision` section reaches the stages: a model other than the
 * manifest's default, chosen in the config file, is the one the stage
 * workers of `process` load and run, and the one `read` loads for photos.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDashcam } from "../support/cli.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

/** The `stage model loaded` lines of a run's log, as stage → model file. */
function loadedModels(stderr: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stderr.split("\n")) {
    if (!line.includes("stage model loaded")) continue;
    const stage = /stage[=:" ]+"?([a-z_]+)/.exec(
      line.slice(line.indexOf("stage model loaded") + 18),
    )?.[1];
    const model = /model[=:" ]+"?([A-Za-z0-9_.-]+\.onnx)/.exec(line)?.[1];
    if (stage && model) out.set(stage, model);
  }
  return out;
}

Deno.test("a non-default model chosen in config is the one process's stages and read load", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = join(dir, "dashcam.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        vision: {
          models: {
            vehicle_detect: "yolox_nano.onnx",
            ocr: "cct_xs_v1_global.onnx",
          },
        },
      }),
    );
    const common = [
      "--config",
      config,
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      join(dir, "data"),
      "--log-level",
      "info",
    ];
    const clip = await runDashcam([
      "process",
      "--json",
      ...common,
      `${SHARED_MEDIA}/clips/nl_tudelft/Video10_2.avi`,
    ]);
    assert.equal(clip.code, 0, clip.stderr);
    const stages = loadedModels(clip.stderr);
    assert.equal(stages.get("vehicle_detect"), "yolox_nano.onnx");
    assert.equal(stages.get("ocr"), "cct_xs_v1_global.onnx");
    // Not chosen: the manifest's default.
    assert.equal(
      stages.get("plate_detect"),
      "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx",
    );

    const photo = await runDashcam([
      "read",
      "--json",
      ...common,
      `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0488.jpg`,
    ]);
    assert.equal(photo.code, 0, photo.stderr);
    const read = loadedModels(photo.stderr);
    assert.equal(read.get("vehicle_detect"), "yolox_nano.onnx");
    assert.equal(read.get("ocr"), "cct_xs_v1_global.onnx");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
