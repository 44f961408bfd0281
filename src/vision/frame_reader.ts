/**
 * Reads the plates of one image in-process with the clip stages' own code
 * (`stages/frame_stages.ts`) and thresholds: vehicles and plates detected
 * side by side, every plate read in one OCR batch, the plate verdict of
 * `plate_smooth` on a one-frame clip.
 *
 * @module
 */
import type { Box, RgbImage } from "../shared/mod.ts";
import { type BackendChoice } from "./inference.ts";
import type { Manifest, ModelTask } from "./model_manifest.ts";
import { WorkerDetector } from "./detector_client.ts";
import { Detector, PlateOcr } from "./models.ts";
import {
  detectPlates,
  detectVehicles,
  loadDetector,
  loadOcr,
  platesOf,
  readPlates,
  stageModel,
  type StageModelOptions,
} from "./stages/frame_stages.ts";
import {
  DEFAULT_VISION_OPTIONS,
  type VehiclesPayload,
  type VisionStageOptions,
} from "./stages/protocol.ts";

export type { VehiclesPayload };

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
  /** Told each stage's model file once it is loaded (the clip stages log the same). */
  loaded?: (task: ModelTask, file: string) => void;
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
   * What config chose for the stages (model files, the plate confidence
   * threshold): the same options the clip stages get.
   * @default {DEFAULT_VISION_OPTIONS}
   */
  vision?: VisionStageOptions;
}

/** What finds the vehicles: a detector on this thread or in a worker. */
export type VehicleDetector = Pick<Detector, "detect" | "close">;

/** The three models of the pipeline, loaded once. */
export class FrameReader {
  readonly vehicles: VehicleDetector;
  readonly plates: Detector;
  readonly ocr: PlateOcr;
  #vision: VisionStageOptions;

  private constructor(
    v: VehicleDetector,
    p: Detector,
    o: PlateOcr,
    vision: VisionStageOptions,
  ) {
    this.vehicles = v;
    this.plates = p;
    this.ocr = o;
    this.#vision = vision;
  }

  /**
   * Checks and loads the default models.
   *
   * @param options Models dir, backend, threads.
   * @returns The reader.
   * @throws {Error} One line naming a missing or corrupt model file.
   */
  static async open(options: FrameReaderOptions): Promise<FrameReader> {
    const vision = options.vision ?? DEFAULT_VISION_OPTIONS;
    const models: StageModelOptions = {
      modelsDir: options.modelsDir,
      backend: options.backend,
      threads: options.threads ?? 1,
      vision,
      manifest: options.manifest,
      log: options.log,
      warn: options.warn,
      loaded: options.loaded,
    };
    const [v, p, o] = await Promise.all([
      options.parallel
        ? stageModel("vehicle_detect", models).then(async ({ entry, load }) => {
          const detector = await WorkerDetector.open(entry, load);
          options.loaded?.("vehicle_detect", entry.file);
          return detector;
        })
        : loadDetector("vehicle_detect", models),
      loadDetector("plate_detect", models),
      loadOcr(models),
    ]);
    return new FrameReader(v, p, o, vision);
  }

  /**
   * Reads an image's plates, most confident first.
   *
   * @param img The image.
   * @param vehicles Its vehicles, when already started with {@linkcode detectVehicles}.
   * @returns The plates.
   */
  async read(
    img: RgbImage,
    vehicles?: Promise<VehiclesPayload>,
  ): Promise<ImagePlate[]> {
    // The two detectors side by side (the plate pass waits for the
    // vehicles only for its second pass); then the clip stages' own
    // pairing, OCR batch and verdict (a photo is a clip of one frame).
    const onFrame = vehicles ?? this.detectVehicles(img);
    // Handled here too, so a failing plate pass leaves no stray rejection.
    onFrame.catch(() => {});
    const { payload } = await detectPlates(this.plates, img, onFrame);
    const reads = await readPlates(this.ocr, img, payload, 0);
    return platesOf(reads.map((r) => r.read), this.#vision, {
      frame: { width: img.width, height: img.height },
    })
      .map((p) => ({
        text: p.text,
        confidence: Math.round(p.confidence * 10000) / 10000,
        plate_bbox: p.best.plateBox,
        car_bbox: p.best.carBox,
        ...(p.best.read.region ? { region: p.best.read.region } : {}),
      }))
      .sort((a, b) => b.confidence - a.confidence);
  }

  /**
   * The `vehicle_detect` stage on an image. With `parallel` it runs in the
   * vehicle detector's worker, so a caller may start it for the next photo
   * while this thread reads the plates of the current one.
   *
   * @param img The image (not changed; the worker gets a copy).
   * @returns The image's vehicles, for {@linkcode read}.
   */
  detectVehicles(img: RgbImage): Promise<VehiclesPayload> {
    return detectVehicles(this.vehicles, img);
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
