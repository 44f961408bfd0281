/**
 * Reads the plates of one image in-process: vehicles and plates detected
 * side by side, every plate read in one OCR batch, format rules applied.
 * `read` uses it for photos; the stage handlers use the same models one
 * stage at a time.
 *
 * @module
 */
import type { Box, RgbImage } from "../shared/mod.ts";
import { assignPlates, VEHICLE_CLASS_IDS } from "./assign.ts";
import { type BackendChoice } from "./inference.ts";
import type { Manifest } from "./model_manifest.ts";
import { loadManifest, resolveModel } from "./model_store.ts";
import { WorkerDetector } from "./detector_client.ts";
import { Detector, PlateOcr } from "./models.ts";
import { applyFormatRules } from "./plate_format.ts";
import { findPlates } from "./plate_search.ts";
import { readPlates } from "./plate_read.ts";
import { isAtFrameEdge, looksWhole } from "./edge_cut.ts";

/** One plate read in an image. */
export interface ImagePlate {
  /** Plate text. */
  text: string;
  /** Confidence 0..1. */
  confidence: number;
  /** Plate box in image pixels. */
  plate_bbox: Box;
  /** Vehicle box in image pixels (the whole image when no vehicle holds the plate). */
  car_bbox: Box;
  /** Region hint of the OCR, when it has one. */
  region?: string;
}

/** Options for {@linkcode FrameReader.open}. */
export interface FrameReaderOptions {
  /** Folder with the models. */
  modelsDir: string;
  /** Backend choice. */
  backend: BackendChoice;
  /** Threads per session. @default {1} */
  threads?: number;
  /** Log line receiver. */
  log?: (msg: string) => void;
  /** Warning receiver (a derived model replaced by its upstream file). @default {log} */
  warn?: (msg: string) => void;
  /** Manifest. @default {models/models.json} */
  manifest?: Manifest;
  /**
   * Run the vehicle detector in its own worker, beside the plate detector
   * on this thread (onnxruntime-node's run holds its thread): 1080p photos
   * are read in ~26 ms instead of ~32 ms on two cores.
   * @default {false}
   */
  parallel?: boolean;
  /**
   * Plates whose confidence is below this are not reported (unreadable,
   * far or blurred plates give spread-out character probabilities).
   * @default {0.6}
   */
  minConfidence?: number;
}

function round1(b: Box): Box {
  return b.map((v) => Math.round(v * 10) / 10) as Box;
}

/** What finds the vehicles: a detector on this thread or in a worker. */
export type VehicleDetector = Pick<Detector, "detect" | "close">;

/** The three models of the pipeline, loaded once. */
export class FrameReader {
  readonly vehicles: VehicleDetector;
  readonly plates: Detector;
  readonly ocr: PlateOcr;
  #minConfidence: number;

  private constructor(
    v: VehicleDetector,
    p: Detector,
    o: PlateOcr,
    minConfidence: number,
  ) {
    this.vehicles = v;
    this.plates = p;
    this.ocr = o;
    this.#minConfidence = minConfidence;
  }

  /**
   * Checks and loads the default models.
   *
   * @param options Models dir, backend, threads.
   * @returns The reader.
   * @throws {Error} One line naming a missing or corrupt model file.
   */
  static async open(options: FrameReaderOptions): Promise<FrameReader> {
    const manifest = options.manifest ?? await loadManifest();
    const resolve = {
      dir: options.modelsDir,
      warn: options.warn ?? options.log,
    };
    const vehicleEntry = await resolveModel(
      manifest,
      "vehicle_detect",
      resolve,
    );
    const plateEntry = await resolveModel(manifest, "plate_detect", resolve);
    const ocrEntry = await resolveModel(manifest, "ocr", resolve);
    const load = {
      modelsDir: options.modelsDir,
      backend: options.backend,
      threads: options.threads ?? 1,
      log: options.log,
    };
    const [v, p, o] = await Promise.all([
      options.parallel
        ? WorkerDetector.open(vehicleEntry, load)
        : Detector.load(vehicleEntry, load),
      Detector.load(plateEntry, load),
      PlateOcr.load(ocrEntry, load),
    ]);
    return new FrameReader(v, p, o, options.minConfidence ?? 0.6);
  }

  /**
   * Reads an image's plates, most confident first.
   *
   * @param img The image.
   * @returns The plates.
   */
  async read(img: RgbImage): Promise<ImagePlate[]> {
    const vehiclesFound = this.vehicles.detect(img, {
      classIds: [...VEHICLE_CLASS_IDS],
    });
    // Handled here too, so a failing plate pass leaves no stray rejection.
    vehiclesFound.catch(() => {});
    const { plates } = await findPlates(this.plates, img, {
      vehicles: vehiclesFound,
    });
    const vehicles = await vehiclesFound;
    const assigned = assignPlates(plates, vehicles, img);
    const reads = await readPlates(
      this.ocr,
      img,
      assigned.map((a) => a.plateBox),
    );
    const out: ImagePlate[] = [];
    reads.forEach((r, i) => {
      const read = applyFormatRules(r.read);
      if (read.text.length < 3 || read.confidence < this.#minConfidence) return;
      // A plate cut by the frame's side is not reported as a shorter plate.
      if (isAtFrameEdge(r.plateBox, img) && !looksWhole(read)) return;
      out.push({
        text: read.text,
        confidence: Math.round(read.confidence * 10000) / 10000,
        plate_bbox: round1(r.plateBox),
        car_bbox: round1(assigned[i].carBox),
        ...(read.region ? { region: read.region } : {}),
      });
    });
    return out.sort((a, b) => b.confidence - a.confidence);
  }

  /** Frees the models. */
  async close(): Promise<void> {
    await Promise.all([
      this.vehicles.close(),
      this.plates.close(),
      this.ocr.close(),
    ]);
  }
}
