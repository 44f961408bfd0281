/**
 * The stage code every frame goes through, a decoded clip frame (the task
 * graph's workers, `mod.ts`) and a photo (`read`, `frame_reader.ts`) alike:
 * model choice and loading, vehicle detection, plate detection and pairing,
 * the OCR batch, and the plate verdict with its thresholds. Inputs and
 * outputs are the payloads of `protocol.ts`.
 *
 * @module
 */
import type { Box, RgbImage } from "../../shared/mod.ts";
import { assignPlates, VEHICLE_CLASS_IDS } from "../assign.ts";
import type { BackendChoice } from "../inference.ts";
import type { Manifest, ModelEntry, ModelTask } from "../model_manifest.ts";
import { loadManifest, resolveModel } from "../model_store.ts";
import { Detector, type LoadModelOptions, PlateOcr } from "../models.ts";
import {
  smoothClip,
  type SmoothClipOptions,
  type SmoothedPlate,
} from "../smooth.ts";
import { isAtFrameEdge } from "../edge_cut.ts";
import { findPlates, type PlateDetector } from "../plate_search.ts";
import { readPlates as readPlateRows } from "../plate_read.ts";
import type {
  FramePlateRead,
  PlatesPayload,
  VehiclesPayload,
  VisionStageOptions,
} from "./protocol.ts";

/** How a stage loads its model. */
export interface StageModelOptions {
  /** Folder with the models and `models.json`. */
  modelsDir: string;
  /** Backend choice. */
  backend: BackendChoice;
  /** Threads per session. */
  threads: number;
  /** What config chose (model files). */
  vision: VisionStageOptions;
  /** Manifest. @default {models/models.json} */
  manifest?: Manifest;
  /** Info lines (backend fallbacks). */
  log?: (msg: string) => void;
  /** Warnings (a derived model replaced by its upstream file). */
  warn?: (msg: string) => void;
  /** Told the model file of each stage once it is loaded. */
  loaded?: (task: ModelTask, file: string) => void;
}

/**
 * The manifest entry of a task's model: config's choice, else the
 * manifest's default.
 *
 * @param task The model task.
 * @param options Models dir, config's choice, manifest.
 * @returns The entry and the options to load it with.
 * @throws {Error} One line naming a missing or unknown model file.
 */
export async function stageModel(
  task: ModelTask,
  options: StageModelOptions,
): Promise<{ entry: ModelEntry; load: LoadModelOptions }> {
  const manifest = options.manifest ?? await loadManifest();
  const entry = await resolveModel(manifest, task, {
    dir: options.modelsDir,
    file: options.vision.models[task] ?? undefined,
    warn: options.warn ?? options.log,
  });
  return {
    entry,
    load: {
      modelsDir: options.modelsDir,
      backend: options.backend,
      threads: options.threads,
      log: options.log,
    },
  };
}

/**
 * Loads a detector stage's model.
 *
 * @param task `vehicle_detect` or `plate_detect`.
 * @param options See {@linkcode StageModelOptions}.
 * @returns The detector.
 */
export async function loadDetector(
  task: "vehicle_detect" | "plate_detect",
  options: StageModelOptions,
): Promise<Detector> {
  const { entry, load } = await stageModel(task, options);
  const detector = await Detector.load(entry, load);
  options.loaded?.(task, entry.file);
  return detector;
}

/**
 * Loads the OCR stage's model.
 *
 * @param options See {@linkcode StageModelOptions}.
 * @returns The OCR.
 */
export async function loadOcr(options: StageModelOptions): Promise<PlateOcr> {
  const { entry, load } = await stageModel("ocr", options);
  const ocr = await PlateOcr.load(entry, load);
  options.loaded?.("ocr", entry.file);
  return ocr;
}

function round1(b: Box): Box {
  return [
    Math.round(b[0] * 10) / 10,
    Math.round(b[1] * 10) / 10,
    Math.round(b[2] * 10) / 10,
    Math.round(b[3] * 10) / 10,
  ];
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** What finds objects: a {@linkcode Detector} here or in a worker. */
export type DetectFn = Pick<Detector, "detect">;

/**
 * `vehicle_detect`: the frame's vehicles, boxes to 0.1 px, scores to 3
 * decimals (as stored).
 *
 * @param detector The vehicle detector.
 * @param img The frame.
 * @returns The payload for `plate_detect`.
 */
export async function detectVehicles(
  detector: DetectFn,
  img: RgbImage,
): Promise<VehiclesPayload> {
  const found = await detector.detect(img, {
    classIds: [...VEHICLE_CLASS_IDS],
  });
  return {
    vehicles: found.map((d) => ({
      box: round1(d.box),
      score: round3(d.score),
      classId: d.classId,
    })),
  };
}

/**
 * `plate_detect`: the plate detector on the whole frame (it beats running
 * it on vehicle crops: MODELS.md measures 93.5 % against 92.6 % at a third
 * of the cost), a second pass on enlarged crops of vehicles where no plate
 * of readable size was found and duplicate boxes removed (`plate_search.ts`),
 * each plate paired with the vehicle holding it.
 *
 * @param detector The plate detector.
 * @param img The frame.
 * @param input The frame's vehicles.
 * @returns The payload for `ocr` and the second pass's detector calls.
 */
export async function detectPlates(
  detector: PlateDetector,
  img: RgbImage,
  input: VehiclesPayload | Promise<VehiclesPayload>,
): Promise<{ payload: PlatesPayload; secondPassCalls: number }> {
  const vehicles = Promise.resolve(input);
  const found = await findPlates(detector, img, {
    vehicles: vehicles.then((v) => v.vehicles),
  });
  return {
    payload: pairPlates(found.plates, await vehicles, img),
    secondPassCalls: found.secondPassCalls,
  };
}

/**
 * The pairing half of {@linkcode detectPlates}.
 *
 * @param plates Plate detections.
 * @param input The frame's vehicles.
 * @param img The frame (its size).
 * @returns The payload for `ocr`.
 */
export function pairPlates(
  plates: Parameters<typeof assignPlates>[0],
  input: VehiclesPayload,
  img: { width: number; height: number },
): PlatesPayload {
  return {
    plates: assignPlates(plates, input.vehicles, img).map((p) => ({
      ...p,
      plateBox: round1(p.plateBox),
      score: round3(p.score),
    })),
  };
}

/**
 * `ocr`: every plate of the frame in one batch, two-row plates read row by
 * row (`plate_read.ts`); a plate box touching the frame's side is marked
 * `atEdge` (`edge_cut.ts`).
 *
 * @param ocr The OCR.
 * @param img The frame.
 * @param input The frame's plates.
 * @param frameIdx The frame's index (0 for a photo).
 * @returns One read per plate, with its crop (evidence candidate).
 */
export async function readPlates(
  ocr: Pick<PlateOcr, "read">,
  img: RgbImage,
  input: PlatesPayload,
  frameIdx: number,
): Promise<Array<{ read: FramePlateRead; crop: RgbImage }>> {
  const results = await readPlateRows(
    ocr,
    img,
    input.plates.map((p) => p.plateBox),
  );
  return results.map((r, i) => ({
    read: {
      frameIdx,
      plateBox: round1(r.plateBox),
      carBox: input.plates[i].carBox,
      carFound: input.plates[i].carFound,
      detScore: input.plates[i].score,
      read: r.read,
      ...(isAtFrameEdge(r.plateBox, img) ? { atEdge: true } : {}),
    },
    crop: r.crop,
  }));
}

/**
 * `plate_smooth`'s verdict: the reads → tracks → one voted plate per
 * vehicle, with config's thresholds. A photo is a clip of one frame.
 *
 * @param reads The reads (of a clip, or of one photo).
 * @param vision Config's thresholds.
 * @param options The clip's frame size, the camera's ignore zones, whether
 *   the scene moves (see {@linkcode SmoothClipOptions}).
 * @returns The plates to report.
 */
export function platesOf(
  reads: readonly FramePlateRead[],
  vision: VisionStageOptions,
  options: Omit<SmoothClipOptions, "minConfidence"> = {},
): SmoothedPlate[] {
  return smoothClip(reads, {
    ...options,
    minConfidence: vision.min_plate_confidence,
  });
}
