/**
 * The built-in stage handlers: real models on real frames.
 *
 * Each stage's input and output is a payload of `protocol.ts`; the stage
 * code itself is `frame_stages.ts`, which `read` runs on photos too. The
 * options (`StageInit.options`) are {@linkcode VisionStageOptions}, from
 * config's `vision` section.
 *
 * - `vehicle_detect`: YOLOX-Nano on the frame → cars, motorcycles, buses, trucks.
 * - `plate_detect`: the plate detector on the whole frame (it beats running
 *   it on vehicle crops: MODELS.md measures 93.5 % against 92.6 % at a third
 *   of the cost), each plate paired with the vehicle box holding it.
 * - `ocr`: every plate of the frame in one OCR batch; crops saved as evidence candidates.
 * - `plate_smooth`: tracks and votes the clip's reads (see `smooth.ts`).
 * - `summary`: the final event, with its time and the evidence crop as PNG.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import type {
  CreateStageHandler,
  FinalEvent,
  StageHandler,
  StageInit,
  StageLog,
  StageOutput,
  TaskCategory,
} from "../../shared/mod.ts";
import {
  cropRef,
  dataLayout,
  decodePpm,
  encodePpm,
  evidenceRef,
  makeDataDir,
  writeDataFile,
} from "../../shared/mod.ts";
import type { Config } from "../../config/mod.ts";
import { zonesOfCamera } from "../ignore_zones.ts";
import { encodePng } from "../png.ts";
import { frameSignature, sceneMoves } from "../static_text.ts";
import {
  planPlateDetect,
  settledTracksOf,
  settleWindow,
  TRACK_GAP_FRAMES,
} from "../online_tracks.ts";
import {
  detectPlates,
  detectVehicles,
  loadDetector,
  loadOcr,
  platesOf,
  readPlates,
  type StageModelOptions,
} from "./frame_stages.ts";
import {
  parsePlatesPayload,
  parseReadsPayload,
  parseSummaryPayload,
  parseVehiclesPayload,
  parseVisionOptions,
  type ReadsPayload,
  type SummaryPayload,
  type VehiclesPayload,
  type VisionStageOptions,
} from "./protocol.ts";

export * from "./protocol.ts";
import { encodeJpeg, vehicleCrop } from "../vehicle_crop.ts";
import { vehicleCropPath } from "../../shared/mod.ts";

type Init = StageInit & { log: StageLog };

function modelOptions(
  task: string,
  init: Init,
  vision: VisionStageOptions,
): StageModelOptions {
  return {
    modelsDir: init.modelsDir,
    backend: init.backend,
    threads: init.threads,
    vision,
    log: (msg) => init.log.info(msg, { stage: task }),
    warn: (msg) => init.log.warn(msg, { stage: task }),
    loaded: (stage, model) =>
      init.log.info("stage model loaded", { stage, model }),
  };
}

async function vehicleStage(
  init: Init,
  vision: VisionStageOptions,
): Promise<StageHandler> {
  const detector = await loadDetector(
    "vehicle_detect",
    modelOptions("vehicle_detect", init, vision),
  );
  return {
    async run(task, ctx): Promise<StageOutput> {
      const img = await ctx.readFrame(task.payloadRef);
      const out: VehiclesPayload = await detectVehicles(detector, img);
      return { vehicles: out.vehicles.length, next: [{ meta: { ...out } }] };
    },
    close: () => detector.close(),
  };
}

async function plateStage(
  init: Init,
  vision: VisionStageOptions,
): Promise<StageHandler> {
  const detector = await loadDetector(
    "plate_detect",
    modelOptions("plate_detect", init, vision),
  );
  // Config `skipping.enabled`, passed by the engine.
  const skipSettled = init.options?.skip_settled_plates === true;
  return {
    async run(task, ctx): Promise<StageOutput> {
      const input = parseVehiclesPayload(task.meta);
      if (skipSettled && task.frameIdx !== null) {
        // Decided when the task runs, not when it is made: the OCR of the
        // frames just before has had the most time to finish.
        const frameIdx = task.frameIdx;
        const tracks = settledTracksOf(
          ctx.recentResults("ocr", settleWindow(frameIdx)),
        );
        const skip = planPlateDetect(input.vehicles, {
          frameIdx,
          tracks,
          maxGapFrames: TRACK_GAP_FRAMES,
        });
        if (skip) return { plates: 0, settled: true, next: [] };
      }
      const img = await ctx.readFrame(task.payloadRef);
      const { payload, secondPassCalls } = await detectPlates(
        detector,
        img,
        input,
      );
      return {
        plates: payload.plates.length,
        secondPassCalls,
        // Tells smoothing whether the scene moves (burned-in text does not).
        signature: frameSignature(img),
        next: payload.plates.length ? [{ meta: { ...payload } }] : [],
      };
    },
    close: () => detector.close(),
  };
}

async function ocrStage(
  init: Init,
  vision: VisionStageOptions,
): Promise<StageHandler> {
  const ocr = await loadOcr(modelOptions("ocr", init, vision));
  return {
    async run(task, ctx): Promise<StageOutput> {
      const input = parsePlatesPayload(task.meta);
      const img = await ctx.readFrame(task.payloadRef);
      const results = await readPlates(ocr, img, input, task.frameIdx ?? 0);
      const data = dataLayout(init.dataDir);
      await makeDataDir(data.cropsOf(task.videoId));
      const out: ReadsPayload = { reads: [] };
      for (const [i, r] of results.entries()) {
        const crop = cropRef(
          task.videoId,
          `${String(task.frameIdx).padStart(6, "0")}_${i}.ppm`,
        );
        await writeDataFile(data.resolve(crop), encodePpm(r.crop));
        // A small vehicle crop beside it: evidence for the fleet (issue 13).
        let carCrop: string | undefined;
        if (r.read.carFound) {
          try {
            carCrop = cropRef(
              task.videoId,
              `${String(task.frameIdx).padStart(6, "0")}_${i}_vehicle.ppm`,
            );
            await writeDataFile(
              data.resolve(carCrop),
              encodePpm(vehicleCrop(img, r.read.carBox)),
            );
          } catch {
            carCrop = undefined; // a box outside the frame: no picture
          }
        }
        out.reads.push({
          ...r.read,
          crop,
          ...(carCrop ? { vehicleCrop: carCrop } : {}),
        });
      }
      return { ...out };
    },
    close: () => ocr.close(),
  };
}

function smoothStage(init: Init, vision: VisionStageOptions): StageHandler {
  const cameras = (init.options.cameras ?? {}) as Config["cameras"];
  return {
    run(_task, ctx): StageOutput {
      const reads = ctx.clipResults("ocr").flatMap((r) =>
        parseReadsPayload(r.result).reads
      );
      const detected = ctx.clipResults("plate_detect");
      const signatures = detected.flatMap((r) =>
        r.task.frameIdx !== null && Array.isArray(r.result.signature)
          ? [[r.task.frameIdx, r.result.signature as number[]] as const]
          : []
      );
      const vehicles = detected.flatMap((r) =>
        r.task.frameIdx !== null
          ? [{
            frameIdx: r.task.frameIdx,
            boxes: parseVehiclesPayload(r.task.meta).vehicles.map((v) => v.box),
          }]
          : []
      );
      const clip = ctx.clip();
      // The camera id is the clip's folder name.
      const camera = clip ? basename(dirname(clip.path)) : null;
      const plates = platesOf(reads, vision, {
        ignoreZones: zonesOfCamera(cameras, camera),
        ...(clip?.width && clip.height
          ? { frame: { width: clip.width, height: clip.height } }
          : {}),
        sceneMoves: sceneMoves(signatures),
        vehicles,
      });
      return {
        tracks: plates.map((p) => ({
          trackId: p.trackId,
          text: p.text,
          reads: p.reads,
        })),
        next: plates.map((p) => ({
          trackId: p.trackId,
          frameIdx: p.best.frameIdx,
          meta: {
            ...({
              text: p.text,
              confidence: Math.round(p.confidence * 10000) / 10000,
              support: p.support,
              reads: p.reads,
              firstFrame: p.firstFrame,
              lastFrame: p.lastFrame,
              plateBox: p.best.plateBox,
              carBox: p.best.carBox,
              crop: p.best.crop ?? null,
              vehicleCrop: p.best.vehicleCrop ?? null,
            } satisfies SummaryPayload),
          },
        })),
      };
    },
  };
}

function summaryStage(init: Init): StageHandler {
  return {
    async run(task, ctx): Promise<StageOutput> {
      const input = parseSummaryPayload(task.meta);
      const clip = ctx.clip();
      const frameIdx = task.frameIdx ?? 0;
      const fps = clip?.samplingFps ?? init.samplingFps;
      const start = clip?.startTime ? Date.parse(clip.startTime) : Date.now();
      let evidence: string | undefined;
      const crop = input.crop;
      if (crop) {
        try {
          const data = dataLayout(init.dataDir);
          const img = decodePpm(await Deno.readFile(data.resolve(crop)));
          evidence = evidenceRef(task.videoId, task.trackId);
          const path = data.resolve(evidence);
          await makeDataDir(data.evidenceOf(task.videoId));
          await writeDataFile(`${path}.tmp`, encodePng(img));
          await Deno.rename(`${path}.tmp`, path);
        } catch (err) {
          ctx.log.warn("evidence crop not saved", {
            crop,
            error: (err as Error).message,
          });
          evidence = undefined;
        }
      }
      const carCrop = input.vehicleCrop;
      if (evidence && carCrop) {
        const data = dataLayout(init.dataDir);
        try {
          const img = decodePpm(await Deno.readFile(data.resolve(carCrop)));
          const path = data.resolve(vehicleCropPath(evidence));
          await writeDataFile(`${path}.tmp`, await encodeJpeg(img));
          await Deno.rename(`${path}.tmp`, path);
        } catch (err) {
          ctx.log.warn("vehicle crop not saved", {
            crop: carCrop,
            error: (err as Error).message,
          });
        }
      }
      const event: FinalEvent = {
        eventKey: `${task.videoId}:${task.trackId}`,
        videoId: task.videoId,
        trackId: task.trackId ?? 0,
        frameIdx,
        ts: new Date(start + (frameIdx / fps) * 1000).toISOString(),
        finalPlate: input.text,
        plateConfidence: input.confidence,
        carBbox: input.carBox,
        plateBbox: input.plateBox,
        ...(evidence ? { evidence } : {}),
      };
      return { event };
    },
  };
}

/** Creates the built-in handler of a category (loading its model once). */
export const createStageHandler: CreateStageHandler = (
  category: TaskCategory,
  init: Init,
): Promise<StageHandler> | StageHandler => {
  const vision = parseVisionOptions(init.options);
  switch (category) {
    case "vehicle_detect":
      return vehicleStage(init, vision);
    case "plate_detect":
      return plateStage(init, vision);
    case "ocr":
      return ocrStage(init, vision);
    case "plate_smooth":
      return smoothStage(init, vision);
    case "summary":
      return summaryStage(init);
  }
};
