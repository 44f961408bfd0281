/**
 * Model wrappers: a detector (any of the manifest's detector decoders) and
 * the plate OCR, each holding one inference session. Pre- and
 * post-processing are the pure functions of this folder.
 *
 * @module
 */
import { join } from "node:path";
import type { Box, Detection, PlateRead, RgbImage } from "../shared/mod.ts";
import {
  decodeYolo26E2E,
  decodeYoloV8,
  decodeYoloV9E2E,
} from "./decode_yolo.ts";
import { decodeYolox, YOLOX_ROW_HEAD } from "./decode_yolox.ts";
import {
  cropImage,
  letterboxToNchw,
  toNhwcUint8Batch,
  unletterboxBox,
} from "./image_ops.ts";
import {
  type BackendChoice,
  createInferenceSession,
  type InferenceSession,
} from "./inference.ts";
import type { ModelEntry } from "./model_manifest.ts";
import { nms } from "./nms.ts";
import { decodePlateSlots, decodeRegion } from "./ocr_decode.ts";

/** Options for loading a model. */
export interface LoadModelOptions {
  /** Folder holding the model files. */
  modelsDir: string;
  /** Backend choice. */
  backend: BackendChoice;
  /** Threads per session. */
  threads: number;
  /** Receives fallback notes. */
  log?: (msg: string) => void;
}

/** Options for {@linkcode Detector.detect}. */
export interface DetectOptions {
  /** Keep only these classes. @default {all} */
  classIds?: number[];
  /** Score threshold. @default {the manifest's} */
  scoreThreshold?: number;
}

/** Loads a manifest entry's file as an inference session. */
function openSession(
  entry: ModelEntry,
  options: LoadModelOptions,
): Promise<InferenceSession> {
  return createInferenceSession(join(options.modelsDir, entry.file), {
    backend: options.backend,
    threads: options.threads,
    log: options.log,
  });
}

function fixedDim(v: number | string, fallback: number): number {
  return typeof v === "number" ? v : fallback;
}

/** An object detector from the manifest (YOLOX, YOLOv9/26 end-to-end, YOLOv8). */
export class Detector {
  readonly entry: ModelEntry;
  readonly session: InferenceSession;
  /**
   * The input tensor's memory, kept at the largest input so far: the plate
   * detector's input follows each frame's and each vehicle crop's aspect,
   * and a fresh tensor per size would map its 1-2 MB anew each time.
   */
  #buffer = new ArrayBuffer(0);

  private constructor(entry: ModelEntry, session: InferenceSession) {
    this.entry = entry;
    this.session = session;
  }

  /**
   * Loads a detector.
   *
   * @param entry Its manifest entry.
   * @param options Folder, backend, threads.
   * @returns The detector.
   */
  static async load(
    entry: ModelEntry,
    options: LoadModelOptions,
  ): Promise<Detector> {
    const session = await openSession(entry, options);
    return new Detector(entry, session);
  }

  /**
   * The input size for an image: the manifest's fixed size, or for a model
   * with free height and width, the manifest's `longSide` on the long side
   * and the other side rounded up to `multipleOf` (YOLOX-Nano at 512: 512x288
   * for 16:9 frames; the YOLOv9 plate detector at 416: 416x256). A square
   * input spends 44 % of its pixels on padding for a 16:9 frame: on the 18
   * dashcam stills YOLOX-Nano at 512x288 found 36 vehicles in 6.9 ms
   * against 32 in 8.2 ms at 416x416.
   *
   * @param img The image.
   * @returns Width and height of the input.
   */
  inputSize(
    img: { width: number; height: number },
  ): { width: number; height: number } {
    const { dims, multipleOf: m = 32, longSide = 512 } = this.entry.input;
    const r = longSide / Math.max(img.width, img.height);
    const w = Math.ceil((img.width * r) / m) * m;
    const h = Math.ceil((img.height * r) / m) * m;
    return { width: fixedDim(dims[3], w), height: fixedDim(dims[2], h) };
  }

  /**
   * Detects objects in an image.
   *
   * @param img The image.
   * @param options Classes and threshold.
   * @returns Detections in source pixels, best first.
   */
  async detect(
    img: RgbImage,
    options: DetectOptions = {},
  ): Promise<Detection[]> {
    const { width, height } = this.inputSize(img);
    const input = this.entry.input;
    const n = 3 * width * height;
    if (this.#buffer.byteLength < n * 4) this.#buffer = new ArrayBuffer(n * 4);
    const lb = letterboxToNchw(img, {
      width,
      height,
      align: input.letterbox === "center" ? "center" : "top-left",
      padValue: input.pad ?? 114,
      order: input.color === "BGR" ? "bgr" : "rgb",
      scale: 1 / input.scale,
      out: new Float32Array(this.#buffer, 0, n),
    });
    const out = await this.session.run({
      [input.name]: {
        type: "float32",
        data: lb.tensor,
        dims: [1, 3, height, width],
      },
    });
    const tensor = out[this.entry.outputs[0].name];
    const data = tensor.data as Float32Array;
    const scoreThreshold = options.scoreThreshold ??
      this.entry.thresholds?.score ?? 0.25;
    let dets: Detection[];
    switch (this.entry.decoder) {
      case "yolox":
        dets = decodeYolox(data, {
          inputWidth: width,
          inputHeight: height,
          numClasses: tensor.dims[2] - YOLOX_ROW_HEAD,
          columnClassIds: this.entry.classIds,
          scoreThreshold,
          classIds: options.classIds,
        });
        break;
      case "yolo_v9_e2e":
        dets = decodeYoloV9E2E(data, { scoreThreshold });
        break;
      case "yolo26_e2e":
        dets = decodeYolo26E2E(data, { scoreThreshold });
        break;
      case "yolov8":
        dets = decodeYoloV8(data, {
          numAnchors: tensor.dims[2],
          numClasses: tensor.dims[1] - 4,
          scoreThreshold,
          classIds: options.classIds,
        });
        break;
      default:
        throw new TypeError(
          `Cannot decode ${this.entry.file}: decoder ${this.entry.decoder} is not a detector`,
        );
    }
    if (
      options.classIds && this.entry.decoder !== "yolox" &&
      this.entry.decoder !== "yolov8"
    ) {
      dets = dets.filter((d) => options.classIds!.includes(d.classId));
    }
    const iouThreshold = this.entry.thresholds?.nmsIou;
    if (iouThreshold !== undefined) dets = nms(dets, { iouThreshold });
    dets.sort((a, b) => b.score - a.score);
    return dets.map((d) => ({
      ...d,
      box: unletterboxBox(d.box, {
        scale: lb.scale,
        padX: lb.padX,
        padY: lb.padY,
        width: img.width,
        height: img.height,
      }),
    })).filter((d) => d.box[2] - d.box[0] >= 1 && d.box[3] - d.box[1] >= 1);
  }

  /** Frees the session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}

/** One plate read by {@linkcode PlateOcr.read}. */
export interface OcrResult {
  /** The reading. */
  read: PlateRead;
  /** The crop box used (padded, clamped, integer). */
  cropBox: Box;
  /** The crop itself (evidence). */
  crop: RgbImage;
}

/** The plate OCR (fast-plate-ocr slot models). */
export class PlateOcr {
  readonly entry: ModelEntry;
  readonly session: InferenceSession;

  private constructor(entry: ModelEntry, session: InferenceSession) {
    this.entry = entry;
    this.session = session;
  }

  /**
   * Loads the OCR.
   *
   * @param entry Its manifest entry.
   * @param options Folder, backend, threads.
   * @returns The OCR.
   */
  static async load(
    entry: ModelEntry,
    options: LoadModelOptions,
  ): Promise<PlateOcr> {
    if (!entry.ocr) {
      throw new TypeError(
        `Cannot use ${entry.file} as OCR: no ocr spec in the manifest`,
      );
    }
    const session = await openSession(entry, options);
    return new PlateOcr(entry, session);
  }

  /**
   * Reads plates: crops each box (padded by `padFraction` of its size per
   * side), stretches it to the model's input and reads the batch at once.
   *
   * @param img The frame.
   * @param boxes Plate boxes in frame pixels.
   * @param options Crop padding.
   * @returns One result per box, in order.
   */
  async read(
    img: RgbImage,
    boxes: readonly Box[],
    options: { padFraction?: number } = {},
  ): Promise<OcrResult[]> {
    if (boxes.length === 0) return [];
    const spec = this.entry.ocr!;
    const dims = this.entry.input.dims;
    const height = fixedDim(dims[1], 64);
    const width = fixedDim(dims[2], 128);
    const crops = boxes.map((b) =>
      cropImage(img, b, { padFraction: options.padFraction ?? 0.1 })
    );
    const batch = toNhwcUint8Batch(crops.map((c) => c.image), {
      width,
      height,
    });
    const out = await this.session.run({
      [this.entry.input.name]: {
        type: "uint8",
        data: batch,
        dims: [crops.length, height, width, 3],
      },
    });
    const plate = out[spec.plateOutput].data as Float32Array;
    const region = spec.regionOutput
      ? out[spec.regionOutput]?.data as Float32Array
      : undefined;
    return crops.map((c, index) => {
      const read = decodePlateSlots(plate, {
        slots: spec.slots,
        alphabet: spec.alphabet,
        padChar: spec.padChar,
        index,
      });
      if (region && spec.regions) {
        const r = decodeRegion(region, { regions: spec.regions, index });
        read.region = r.region;
        read.regionProb = r.prob;
      }
      return { read, cropBox: c.box, crop: c.image };
    });
  }

  /** Frees the session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}
