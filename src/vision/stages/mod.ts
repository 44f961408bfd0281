/**
 * The built-in stage handlers: real models on real frames.
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
  Box,
  CreateStageHandler,
  Detection,
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
import {
  assignPlates,
  type PlateOnVehicle,
  VEHICLE_CLASS_IDS,
} from "../assign.ts";
import type { ModelTask } from "../model_manifest.ts";
import { loadManifest, resolveModel } from "../model_store.ts";
import { Detector, type LoadModelOptions, PlateOcr } from "../models.ts";
import { isAtFrameEdge } from "../edge_cut.ts";
import { findPlates } from "../plate_search.ts";
import { zonesOfCamera } from "../ignore_zones.ts";
import { frameSignature, sceneMoves } from "../static_text.ts";
import type { Config } from "../../config/mod.ts";
import { readPlates } from "../plate_read.ts";
import { encodePng } from "../png.ts";
import { encodeJpeg, vehicleCrop } from "../vehicle_crop.ts";
import { vehicleCropPath } from "../../shared/mod.ts";
import { type FramePlateRead, smoothClip } from "../smooth.ts";

type Init = StageInit & { log: StageLog };

function round1(b: Box): Box {
  return b.map((v) => Math.round(v * 10) / 10) as Box;
}

async function modelFor(task: ModelTask, init: Init) {
  const manifest = await loadManifest();
  const file = (init.options.models as Record<string, string> | undefined)
    ?.[task];
  const entry = await resolveModel(manifest, task, {
    dir: init.modelsDir,
    file,
    warn: (message) => init.log.warn(message),
  });
  const options: LoadModelOptions = {
    modelsDir: init.modelsDir,
    backend: init.backend,
    threads: init.threads,
    log: (msg) => init.log.info(msg),
  };
  return { entry, options };
}

async function vehicleStage(init: Init): Promise<StageHandler> {
  const { entry, options } = await modelFor("vehicle_detect", init);
  const detector = await Detector.load(entry, options);
  return {
    async run(task, ctx): Promise<StageOutput> {
      const img = await ctx.readFrame(task.payloadRef);
      const vehicles =
        (await detector.detect(img, { classIds: [...VEHICLE_CLASS_IDS] }))
          .map((d) => ({
            ...d,
            box: round1(d.box),
            score: Math.round(d.score * 1000) / 1000,
          }));
      return { vehicles: vehicles.length, next: [{ meta: { vehicles } }] };
    },
    close: () => detector.close(),
  };
}

async function plateStage(init: Init): Promise<StageHandler> {
  const { entry, options } = await modelFor("plate_detect", init);
  const detector = await Detector.load(entry, options);
  return {
    async run(task, ctx): Promise<StageOutput> {
      const img = await ctx.readFrame(task.payloadRef);
      const vehicles = (task.meta.vehicles ?? []) as Detection[];
      const found = await findPlates(detector, img, { vehicles });
      const plates = assignPlates(found.plates, vehicles, img)
        .map((p) => ({
          ...p,
          plateBox: round1(p.plateBox),
          score: Math.round(p.score * 1000) / 1000,
        }));
      return {
        plates: plates.length,
        secondPassCalls: found.secondPassCalls,
        // Tells smoothing whether the scene moves (burned-in text does not).
        signature: frameSignature(img),
        next: plates.length ? [{ meta: { plates } }] : [],
      };
    },
    close: () => detector.close(),
  };
}

async function ocrStage(init: Init): Promise<StageHandler> {
  const { entry, options } = await modelFor("ocr", init);
  const ocr = await PlateOcr.load(entry, options);
  return {
    async run(task, ctx): Promise<StageOutput> {
      const img = await ctx.readFrame(task.payloadRef);
      const plates = (task.meta.plates ?? []) as PlateOnVehicle[];
      const results = await readPlates(
        ocr,
        img,
        plates.map((p) => p.plateBox),
      );
      const data = dataLayout(init.dataDir);
      await makeDataDir(data.cropsOf(task.videoId));
      const reads: FramePlateRead[] = [];
      for (let i = 0; i < results.length; i++) {
        const crop = cropRef(
          task.videoId,
          `${String(task.frameIdx).padStart(6, "0")}_${i}.ppm`,
        );
        await writeDataFile(data.resolve(crop), encodePpm(results[i].crop));
        // A small vehicle crop beside it: evidence for the fleet (issue 13).
        let carCrop: string | undefined;
        if (plates[i].carFound) {
          try {
            carCrop = cropRef(
              task.videoId,
              `${String(task.frameIdx).padStart(6, "0")}_${i}_vehicle.ppm`,
            );
            await writeDataFile(
              data.resolve(carCrop),
              encodePpm(vehicleCrop(img, plates[i].carBox)),
            );
          } catch {
            carCrop = undefined; // a box outside the frame: no picture
          }
        }
        reads.push({
          frameIdx: task.frameIdx ?? 0,
          plateBox: round1(results[i].plateBox),
          carBox: plates[i].carBox,
          carFound: plates[i].carFound,
          detScore: plates[i].score,
          read: results[i].read,
          crop,
          atEdge: isAtFrameEdge(results[i].plateBox, img),
          ...(carCrop ? { vehicleCrop: carCrop } : {}),
        });
      }
      return { reads };
    },
    close: () => ocr.close(),
  };
}

function smoothStage(init: Init): StageHandler {
  const cameras = (init.options.cameras ?? {}) as Config["cameras"];
  return {
    run(_task, ctx): StageOutput {
      const reads = ctx.clipResults("ocr").flatMap((r) =>
        (r.result.reads ?? []) as FramePlateRead[]
      );
      const signatures = ctx.clipResults("plate_detect").flatMap((r) =>
        r.task.frameIdx !== null && Array.isArray(r.result.signature)
          ? [[r.task.frameIdx, r.result.signature as number[]] as const]
          : []
      );
      const clip = ctx.clip();
      // The camera id is the clip's folder name.
      const camera = clip ? basename(dirname(clip.path)) : null;
      const plates = smoothClip(reads, {
        ignoreZones: zonesOfCamera(cameras, camera),
        ...(clip?.width && clip.height
          ? { frame: { width: clip.width, height: clip.height } }
          : {}),
        sceneMoves: sceneMoves(signatures),
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
          },
        })),
      };
    },
  };
}

function summaryStage(init: Init): StageHandler {
  return {
    async run(task, ctx): Promise<StageOutput> {
      const clip = ctx.clip();
      const frameIdx = task.frameIdx ?? 0;
      const fps = clip?.samplingFps ?? init.samplingFps;
      const start = clip?.startTime ? Date.parse(clip.startTime) : Date.now();
      let evidence: string | undefined;
      const crop = task.meta.crop as string | null;
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
      const carCrop = task.meta.vehicleCrop as string | null | undefined;
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
        finalPlate: String(task.meta.text),
        plateConfidence: Number(task.meta.confidence),
        carBbox: task.meta.carBox as Box,
        plateBbox: task.meta.plateBox as Box,
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
  switch (category) {
    case "vehicle_detect":
      return vehicleStage(init);
    case "plate_detect":
      return plateStage(init);
    case "ocr":
      return ocrStage(init);
    case "plate_smooth":
      return smoothStage(init);
    case "summary":
      return summaryStage(init);
  }
};
