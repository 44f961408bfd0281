/**
 * `deno task bench vehicle-output`: the default vehicle detector, which keeps
 * only the 4 COCO vehicle classes in its output (`select_classes`), beside
 * `yolox_nano_dynamic` with all 80, on the 16:9 dashcam stills. Same weights
 * and the same detections; what differs is the output onnxruntime-node copies
 * into a new JS buffer on every run (9 or 85 values a row).
 *
 * Runs as its own process with the daemon's malloc settings (`tuneMalloc`:
 * 2 arenas, a fixed 128 KiB mmap threshold), as `run` and `process` do, so a
 * 1 MB output is a fresh mapping each run. The two detectors take turns in
 * blocks, 4 rounds, so drift on a noisy machine hits both alike.
 *
 * @module
 */
import { join } from "node:path";
import process from "node:process";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { tuneMalloc } from "../../src/shared/malloc_tuning.ts";
import type { Detection, RgbImage } from "../../src/shared/mod.ts";
import { VEHICLE_CLASS_IDS } from "../../src/vision/assign.ts";
import { findModel } from "../../src/vision/model_manifest.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import { Detector } from "../../src/vision/models.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";
import { fmt, median, table } from "./_util.ts";

const ROUNDS = 4;
const PASSES = 4;

interface Sample {
  /** Wall ms per `detect()` of one block. */
  msPerCall: number;
  /** CPU ms (user + system) of the process per `detect()` of one block. */
  cpuPerCall: number;
}

async function block(
  detector: Detector,
  images: readonly RgbImage[],
): Promise<{ sample: Sample; found: Detection[][] }> {
  const classIds = [...VEHICLE_CLASS_IDS];
  const found: Detection[][] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let pass = 0; pass < PASSES; pass++) {
    for (const img of images) {
      const dets = await detector.detect(img, { classIds });
      if (pass === 0) found.push(dets);
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const calls = PASSES * images.length;
  return {
    sample: {
      msPerCall: ms / calls,
      cpuPerCall: (cpu.user + cpu.system) / 1000 / calls,
    },
    found,
  };
}

async function main(): Promise<void> {
  const tuned = tuneMalloc();
  const manifest = await loadManifest();
  const files = ["yolox_nano_vehicles_dynamic.onnx", "yolox_nano_dynamic.onnx"];
  const load = {
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  } as const;
  const detectors = await Promise.all(
    files.map((file) =>
      Detector.load(findModel(manifest, "vehicle_detect", { file }), load)
    ),
  );
  const dir = join(SHARED_MEDIA, "stills", "ro_dashcam");
  const names = [...Deno.readDirSync(dir)]
    .filter((f) => f.name.endsWith(".jpg")).map((f) => f.name).sort();
  const images = await Promise.all(
    names.map((name) => decodeImageFile(join(dir, name))),
  );
  const samples: Sample[][] = files.map(() => []);
  let same = true;
  for (const detector of detectors) await block(detector, images); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const found: Detection[][][] = [];
    for (const [i, detector] of detectors.entries()) {
      const run = await block(detector, images);
      samples[i].push(run.sample);
      found.push(run.found);
    }
    same &&= JSON.stringify(found[0]) === JSON.stringify(found[1]);
  }
  const { width, height } = detectors[0].inputSize(images[0]);
  const rows = [8, 16, 32].reduce((n, s) => n + (width / s) * (height / s), 0);
  table(
    `Vehicle detector output: 4 vehicle classes kept against all 80 (${images.length} dashcam stills at ${width}x${height}, ${
      PASSES * images.length
    } detect() calls a block, ${ROUNDS} rounds taking turns, malloc ${
      tuned.mmapThreshold ? "as the daemon sets it" : "left as the user set it"
    })`,
    [
      [
        "model",
        "output values a row",
        "output KB a run",
        "ms per detect(): median (min-max)",
        "CPU ms per detect(): median",
      ],
      ...files.map((file, i) => {
        const per = Number(detectors[i].entry.outputs[0].dims.at(-1));
        const ms = samples[i].map((s) => s.msPerCall);
        return [
          file,
          String(per),
          fmt((rows * per * 4) / 1000, 0),
          `${fmt(median(ms), 2)} (${fmt(Math.min(...ms), 2)}-${
            fmt(Math.max(...ms), 2)
          })`,
          fmt(median(samples[i].map((s) => s.cpuPerCall)), 2),
        ];
      }),
    ],
  );
  console.log(
    `same detections from both in every round: ${same ? "yes" : "NO"}`,
  );
  for (const detector of detectors) await detector.session.release();
}

if (import.meta.main) await main();
