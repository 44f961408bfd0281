/**
 * Types of `models/models.json`, the manifest of the ONNX models the pipeline
 * can use, and a strict parser for it. Pure: no I/O.
 *
 * @module
 */

import { YOLOX_ROW_HEAD } from "./decode_yolox.ts";

/** Manifest format version this parser reads. */
export const MANIFEST_VERSION = 1;

/** Pipeline stages that run a model. */
export const MODEL_TASKS = ["vehicle_detect", "plate_detect", "ocr"] as const;

/** A pipeline stage that runs a model. */
export type ModelTask = typeof MODEL_TASKS[number];

/** How a model's raw output is turned into boxes or text. */
export const DECODERS = [
  "yolox",
  "yolo_v9_e2e",
  "yolo26_e2e",
  "yolov8",
  "plate_slots",
] as const;

/** Name of an output decoder. */
export type DecoderKind = typeof DECODERS[number];

/** How a derived model is made from its upstream file (see `onnx_derive.ts`). */
export const DERIVE_RECIPES = [
  "symbolic_dims",
  "dequantize_conv_integer",
  "dynamic_anchors",
  "select_classes",
] as const;

/** Name of a derivation recipe. */
export type DeriveRecipe = typeof DERIVE_RECIPES[number];

/** A tensor dimension: a fixed size, or a name for a free (dynamic) one. */
export type Dim = number | string;

/** One file to install, with what identifies it and where it came from. */
export interface ManifestFile {
  /** Plain file name inside the models folder (no folder part). */
  file: string;
  /** Lower-case hex sha256 of the file. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** Licence of the file, as far as it is known. */
  licence: string;
  /** Where it comes from: `owner/repo@commit:path`, or how it was derived. */
  source: string;
  /**
   * Public URL of the upstream file, which serves exactly these bytes: GitHub
   * raw `https://github.com/<owner>/<repo>/raw/<commit>/<path>` or a release
   * asset `https://github.com/<owner>/<repo>/releases/download/<tag>/<file>`.
   * Absent for a derived model, which `derive` makes instead.
   */
  url?: string;
}

/** How a derived model is made from an upstream model of the manifest. */
export interface DeriveSpec {
  /** File name of the upstream model entry it is made from (an entry with a `url`). */
  from: string;
  /**
   * What is done to it, step by step in this order; see `onnx_derive.ts`. In
   * the file, one step may be given as a plain string.
   */
  recipe: DeriveRecipe[];
  /** What using the upstream file instead costs, shown in the fallback warning. */
  fallbackCost: string;
}

/** How an image is turned into the model's input tensor. */
export interface ModelInput {
  /** Input name in the graph. */
  name: string;
  /** Element type of the input tensor. */
  type: "float32" | "uint8";
  /** Dimensions; strings name free dimensions (batch, height, width). */
  dims: Dim[];
  /** Memory layout of the tensor. */
  layout: "NCHW" | "NHWC";
  /** Channel order. */
  color: "RGB" | "BGR";
  /** Pixel values 0..255 are divided by this: 1 keeps 0..255, 255 gives 0..1. */
  scale: number;
  /**
   * How the image is fitted: keep the aspect ratio and place it at the
   * `top-left` or `center` of the input, or `none` to stretch it to fill.
   */
  letterbox: "top-left" | "center" | "none";
  /** Pixel value (0..255, before `scale`) of the letterbox padding; only with a letterbox. */
  pad?: number;
  /** Free height and width must be multiples of this, when they are free. */
  multipleOf?: number;
  /**
   * Long side in pixels of the input when height and width are free: the
   * image is scaled to it and the other side rounded up to `multipleOf`
   * (the size the model was trained at, e.g. 416 for the YOLOv9 plate
   * detector). Required exactly when height and width are free.
   */
  longSide?: number;
}

/** One output of the graph. */
export interface ModelOutput {
  /** Output name in the graph. */
  name: string;
  /** Dimensions; strings name free dimensions. */
  dims: Dim[];
}

/** Default thresholds for a detector's decoder. */
export interface DetectorThresholds {
  /** Minimum score of a kept box, 0..1. */
  score: number;
  /** IoU above which non-maximum suppression drops a box; absent when the graph does NMS. */
  nmsIou?: number;
}

/** What a `plate_slots` OCR model reads. */
export interface OcrSpec {
  /** Number of character slots (the longest plate it can read). */
  slots: number;
  /** Characters of each slot's classes, in output order. */
  alphabet: string;
  /** Character that fills unused slots; it is part of `alphabet`. */
  padChar: string;
  /** Output holding the per-slot probabilities `[N, slots, alphabet.length]`. */
  plateOutput: string;
  /** Output holding the region probabilities `[N, regions.length]`, when the model has one. */
  regionOutput?: string;
  /** Region names in the order of `regionOutput`. */
  regions?: string[];
}

/** One model of the manifest. */
export interface ModelEntry extends ManifestFile {
  /** Stage the model serves. */
  task: ModelTask;
  /** Whether the pipeline uses it unless the config names another; one per task. */
  default: boolean;
  /** Decoder for its output. */
  decoder: DecoderKind;
  /** Input tensor and preprocessing. */
  input: ModelInput;
  /** Outputs in graph order. */
  outputs: ModelOutput[];
  /** Default decoder thresholds (detectors only). */
  thresholds?: DetectorThresholds;
  /**
   * Class ids of the output's class columns, in order, when the model keeps
   * only some of the classes it was trained on (`yolox` decoder only; made
   * by the `select_classes` recipe): e.g. `[2, 3, 5, 7]`, the COCO ids of
   * car, motorcycle, bus and truck. Detections report these ids. Absent:
   * column k is class k.
   */
  classIds?: number[];
  /** Alphabet and slots (OCR models only). */
  ocr?: OcrSpec;
  /** Files installed together with the model (configs, class names). */
  extraFiles: ManifestFile[];
  /** Present when the model is made from another entry instead of downloaded. */
  derive?: DeriveSpec;
}

/** The parsed manifest. */
export interface Manifest {
  /** Format version, {@linkcode MANIFEST_VERSION}. */
  version: number;
  /** Every known model. */
  models: ModelEntry[];
}

/** Which models an operation covers: the defaults only, or every model. */
export type ModelSelection = "default" | "all";

const PREFIX = "Cannot parse model manifest";

type Obj = Record<string, unknown>;

function fail(key: string, problem: string, value: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 60) shown = shown.slice(0, 57) + "...";
  throw new TypeError(
    `${PREFIX}: '${key}' ${problem}: current value is ${shown}`,
  );
}

function object(value: unknown, key: string, allowed: string[]): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(key, "must be an object", value);
  }
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) {
      const where = key === "" ? name : `${key}.${name}`;
      throw new TypeError(`${PREFIX}: '${where}' is not a known key`);
    }
  }
  return value as Obj;
}

function join(key: string, name: string): string {
  return key === "" ? name : `${key}.${name}`;
}

function string(obj: Obj, key: string, name: string): string {
  const value = obj[name];
  if (typeof value !== "string" || value === "") {
    fail(join(key, name), "must be a non-empty string", value);
  }
  return value;
}

function positiveNumber(obj: Obj, key: string, name: string): number {
  const value = obj[name];
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    fail(join(key, name), "must be a number > 0", value);
  }
  return value;
}

function positiveInteger(obj: Obj, key: string, name: string): number {
  const value = obj[name];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(join(key, name), "must be an integer >= 1", value);
  }
  return value;
}

function fraction(obj: Obj, key: string, name: string): number {
  const value = obj[name];
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    fail(join(key, name), "must be a number in 0..1", value);
  }
  return value;
}

function oneOf<T extends string>(
  obj: Obj,
  key: string,
  name: string,
  choices: readonly T[],
): T {
  const value = obj[name];
  if (typeof value !== "string" || !choices.includes(value as T)) {
    fail(join(key, name), `must be one of ${choices.join(", ")}`, value);
  }
  return value as T;
}

function array(obj: Obj, key: string, name: string): unknown[] {
  const value = obj[name];
  if (!Array.isArray(value)) fail(join(key, name), "must be an array", value);
  return value;
}

function parseFileFields(obj: Obj, key: string): ManifestFile {
  const file = string(obj, key, "file");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(file)) {
    fail(
      join(key, "file"),
      "must be a plain file name (letters, digits, . _ -)",
      file,
    );
  }
  const sha256 = obj.sha256;
  if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
    fail(join(key, "sha256"), "must be 64 lower-case hex digits", sha256);
  }
  const parsed: ManifestFile = {
    file,
    sha256,
    bytes: positiveInteger(obj, key, "bytes"),
    licence: string(obj, key, "licence"),
    source: string(obj, key, "source"),
  };
  if (obj.url !== undefined) {
    const url = string(obj, key, "url");
    if (!UPSTREAM_URL.test(url)) {
      fail(
        join(key, "url"),
        "must be https://github.com/OWNER/REPO/raw/COMMIT/PATH or https://github.com/OWNER/REPO/releases/download/TAG/FILE",
        url,
      );
    }
    parsed.url = url;
  }
  return parsed;
}

/** What an upstream `url` must look like: GitHub raw at a full commit, or a release asset. */
export const UPSTREAM_URL =
  /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(raw\/[0-9a-f]{40}|releases\/download\/[^/\s]+)\/[^\s?#]+$/;

function parseRecipe(obj: Obj, key: string): DeriveRecipe[] {
  if (!Array.isArray(obj.recipe)) {
    return [oneOf(obj, key, "recipe", DERIVE_RECIPES)];
  }
  const steps: unknown[] = obj.recipe;
  if (steps.length === 0) fail(join(key, "recipe"), "must not be empty", steps);
  return steps.map((step, i) => {
    if (!DERIVE_RECIPES.includes(step as DeriveRecipe)) {
      fail(
        `${key}.recipe[${i}]`,
        `must be one of ${DERIVE_RECIPES.join(", ")}`,
        step,
      );
    }
    return step as DeriveRecipe;
  });
}

function parseDerive(value: unknown, key: string): DeriveSpec {
  const obj = object(value, key, ["from", "recipe", "fallbackCost"]);
  return {
    from: string(obj, key, "from"),
    recipe: parseRecipe(obj, key),
    fallbackCost: string(obj, key, "fallbackCost"),
  };
}

function parseDims(obj: Obj, key: string): Dim[] {
  const values = array(obj, key, "dims");
  if (values.length === 0) fail(join(key, "dims"), "must not be empty", values);
  return values.map((dim, i) => {
    const ok = (typeof dim === "number" && Number.isInteger(dim) && dim >= 0) ||
      (typeof dim === "string" && dim !== "");
    if (!ok) {
      fail(
        `${key}.dims[${i}]`,
        "must be an integer >= 0 or a dimension name",
        dim,
      );
    }
    return dim as Dim;
  });
}

function parseInput(value: unknown, key: string): ModelInput {
  const obj = object(value, key, [
    "name",
    "type",
    "dims",
    "layout",
    "color",
    "scale",
    "letterbox",
    "pad",
    "multipleOf",
    "longSide",
  ]);
  const input: ModelInput = {
    name: string(obj, key, "name"),
    type: oneOf(obj, key, "type", ["float32", "uint8"] as const),
    dims: parseDims(obj, key),
    layout: oneOf(obj, key, "layout", ["NCHW", "NHWC"] as const),
    color: oneOf(obj, key, "color", ["RGB", "BGR"] as const),
    scale: positiveNumber(obj, key, "scale"),
    letterbox: oneOf(
      obj,
      key,
      "letterbox",
      ["top-left", "center", "none"] as const,
    ),
  };
  if (input.dims.length !== 4) {
    fail(join(key, "dims"), "must have 4 dimensions", input.dims);
  }
  if (input.letterbox === "none") {
    if (obj.pad !== undefined) {
      fail(join(key, "pad"), "must be absent when letterbox is none", obj.pad);
    }
  } else {
    const pad = obj.pad;
    if (
      typeof pad !== "number" || !Number.isInteger(pad) || pad < 0 || pad > 255
    ) {
      fail(join(key, "pad"), "must be an integer in 0..255", pad);
    }
    input.pad = pad;
  }
  if (obj.multipleOf !== undefined) {
    input.multipleOf = positiveInteger(obj, key, "multipleOf");
  }
  const free = input.layout === "NCHW"
    ? input.dims.slice(2)
    : input.dims.slice(1, 3);
  if (free.some((d) => typeof d === "string")) {
    if (obj.longSide === undefined) {
      throw new TypeError(
        `${PREFIX}: '${
          join(key, "longSide")
        }' is missing (height and width are free: give the long side in pixels)`,
      );
    }
    input.longSide = positiveInteger(obj, key, "longSide");
  } else if (obj.longSide !== undefined) {
    fail(
      join(key, "longSide"),
      "must be absent when height and width are fixed",
      obj.longSide,
    );
  }
  return input;
}

function parseOutputs(obj: Obj, key: string): ModelOutput[] {
  const values = array(obj, key, "outputs");
  if (values.length === 0) {
    fail(join(key, "outputs"), "must not be empty", values);
  }
  return values.map((value, i) => {
    const where = `${key}.outputs[${i}]`;
    const output = object(value, where, ["name", "dims"]);
    return {
      name: string(output, where, "name"),
      dims: parseDims(output, where),
    };
  });
}

function parseOcr(value: unknown, key: string, outputs: string[]): OcrSpec {
  const obj = object(value, key, [
    "slots",
    "alphabet",
    "padChar",
    "plateOutput",
    "regionOutput",
    "regions",
  ]);
  const spec: OcrSpec = {
    slots: positiveInteger(obj, key, "slots"),
    alphabet: string(obj, key, "alphabet"),
    padChar: string(obj, key, "padChar"),
    plateOutput: string(obj, key, "plateOutput"),
  };
  if (spec.padChar.length !== 1 || !spec.alphabet.includes(spec.padChar)) {
    fail(
      join(key, "padChar"),
      "must be one character of the alphabet",
      spec.padChar,
    );
  }
  if (!outputs.includes(spec.plateOutput)) {
    fail(
      join(key, "plateOutput"),
      "must name one of the outputs",
      spec.plateOutput,
    );
  }
  if (obj.regionOutput !== undefined || obj.regions !== undefined) {
    spec.regionOutput = string(obj, key, "regionOutput");
    if (!outputs.includes(spec.regionOutput)) {
      fail(
        join(key, "regionOutput"),
        "must name one of the outputs",
        spec.regionOutput,
      );
    }
    spec.regions = array(obj, key, "regions").map((region, i) => {
      if (typeof region !== "string" || region === "") {
        fail(`${key}.regions[${i}]`, "must be a non-empty string", region);
      }
      return region;
    });
  }
  return spec;
}

function parseThresholds(value: unknown, key: string): DetectorThresholds {
  const obj = object(value, key, ["score", "nmsIou"]);
  const thresholds: DetectorThresholds = {
    score: fraction(obj, key, "score"),
  };
  if (obj.nmsIou !== undefined) {
    thresholds.nmsIou = fraction(obj, key, "nmsIou");
  }
  return thresholds;
}

function parseModel(value: unknown, key: string): ModelEntry {
  const obj = object(value, key, [
    "file",
    "sha256",
    "bytes",
    "task",
    "default",
    "decoder",
    "input",
    "outputs",
    "thresholds",
    "ocr",
    "licence",
    "source",
    "url",
    "derive",
    "extraFiles",
    "classIds",
  ]);
  const base = parseFileFields(obj, key);
  if (typeof obj.default !== "boolean") {
    fail(join(key, "default"), "must be true or false", obj.default);
  }
  const outputs = parseOutputs(obj, key);
  const entry: ModelEntry = {
    ...base,
    task: oneOf(obj, key, "task", MODEL_TASKS),
    default: obj.default,
    decoder: oneOf(obj, key, "decoder", DECODERS),
    input: parseInput(obj.input, join(key, "input")),
    outputs,
    extraFiles: array(obj, key, "extraFiles").map((extra, i) => {
      const where = `${key}.extraFiles[${i}]`;
      const file = object(extra, where, [
        "file",
        "sha256",
        "bytes",
        "licence",
        "source",
        "url",
      ]);
      const parsed = parseFileFields(file, where);
      if (parsed.url === undefined) {
        throw new TypeError(`${PREFIX}: '${join(where, "url")}' is missing`);
      }
      return parsed;
    }),
  };
  if (obj.derive !== undefined) {
    if (base.url !== undefined) {
      fail(join(key, "url"), "must be absent when 'derive' is given", base.url);
    }
    entry.derive = parseDerive(obj.derive, join(key, "derive"));
  } else if (base.url === undefined) {
    throw new TypeError(
      `${PREFIX}: '${join(key, "url")}' is missing (or give 'derive')`,
    );
  }
  const isOcr = entry.decoder === "plate_slots";
  if (isOcr !== (entry.task === "ocr")) {
    fail(
      join(key, "decoder"),
      `does not fit task ${entry.task} (plate_slots is the OCR decoder)`,
      entry.decoder,
    );
  }
  if (isOcr) {
    if (obj.ocr === undefined) {
      throw new TypeError(`${PREFIX}: '${join(key, "ocr")}' is missing`);
    }
    entry.ocr = parseOcr(
      obj.ocr,
      join(key, "ocr"),
      outputs.map((output) => output.name),
    );
  } else if (obj.ocr !== undefined) {
    fail(join(key, "ocr"), "is only allowed for OCR models", obj.ocr);
  }
  if (obj.thresholds !== undefined) {
    entry.thresholds = parseThresholds(
      obj.thresholds,
      join(key, "thresholds"),
    );
  }
  if (obj.classIds !== undefined) {
    entry.classIds = parseClassIds(obj, entry, key);
  } else if (entry.derive?.recipe.includes("select_classes")) {
    throw new TypeError(
      `${PREFIX}: '${
        join(key, "classIds")
      }' is missing (recipe select_classes keeps them)`,
    );
  }
  return entry;
}

function parseClassIds(obj: Obj, entry: ModelEntry, key: string): number[] {
  const where = join(key, "classIds");
  if (entry.decoder !== "yolox") {
    fail(where, "is only allowed for the yolox decoder", obj.classIds);
  }
  const ids = array(obj, key, "classIds");
  const valid = ids.length > 0 &&
    ids.every((id) =>
      typeof id === "number" && Number.isInteger(id) && id >= 0
    ) &&
    new Set(ids).size === ids.length;
  if (!valid) {
    fail(where, "must be distinct integers >= 0, at least one", ids);
  }
  const rowLength = entry.outputs[0].dims.at(-1);
  if (rowLength !== YOLOX_ROW_HEAD + ids.length) {
    fail(
      join(key, "outputs[0].dims"),
      `must end in ${
        YOLOX_ROW_HEAD + ids.length
      } (box, objectness and the ${ids.length} classIds)`,
      entry.outputs[0].dims,
    );
  }
  return ids as number[];
}

/**
 * Checks a parsed `models.json` value and returns it typed. Unknown keys,
 * missing keys, duplicate file names and a task with more than one default
 * are errors.
 *
 * @example Parse a manifest
 * ```ts
 * import { parseManifest } from "./model_manifest.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => parseManifest({ version: 1, models: "x" }),
 *   /'models' must be an array/,
 * );
 * ```
 * @param json The value of `JSON.parse` on the manifest file.
 * @returns The manifest.
 * @throws {TypeError} One line naming the first bad key, e.g.
 * `Cannot parse model manifest: 'models[2].sha256' must be 64 lower-case hex digits: current value is "abc"`.
 */
export function parseManifest(json: unknown): Manifest {
  const obj = object(json, "", ["version", "models"]);
  if (obj.version !== MANIFEST_VERSION) {
    fail("version", `must be ${MANIFEST_VERSION}`, obj.version);
  }
  const models = array(obj, "", "models").map((model, i) =>
    parseModel(model, `models[${i}]`)
  );
  const seen = new Set<string>();
  models.forEach((model, i) => {
    for (const file of [model, ...model.extraFiles]) {
      if (seen.has(file.file)) {
        fail(`models[${i}].file`, "is listed twice", file.file);
      }
      seen.add(file.file);
    }
  });
  models.forEach((model, i) => {
    if (model.derive === undefined) return;
    const from = models.find((m) => m.file === model.derive?.from);
    if (from === undefined || from.derive !== undefined) {
      fail(
        `models[${i}].derive.from`,
        "must name a model entry with a url",
        model.derive.from,
      );
    }
    if (from.task !== model.task) {
      fail(
        `models[${i}].derive.from`,
        `must name a ${model.task} model`,
        model.derive.from,
      );
    }
  });
  for (const task of MODEL_TASKS) {
    const defaults = models.filter((m) => m.task === task && m.default);
    if (defaults.length > 1) {
      throw new TypeError(
        `${PREFIX}: 'default' is true for more than one ${task} model: ${
          defaults.map((m) => m.file).join(", ")
        }`,
      );
    }
  }
  return { version: MANIFEST_VERSION, models };
}

/**
 * Returns the models an operation covers.
 *
 * @example Defaults only
 * ```ts ignore
 * const defaults = selectModels(manifest, "default");
 * ```
 * @param manifest The manifest.
 * @param only `default` for the default models, `all` for every model.
 * @returns The entries, in manifest order.
 */
export function selectModels(
  manifest: Manifest,
  only: ModelSelection,
): ModelEntry[] {
  return manifest.models.filter((model) => only === "all" || model.default);
}

/** Options for {@linkcode findModel}. */
export interface FindModelOptions {
  /** File name chosen in the config. @default {the task's default model} */
  file?: string;
}

/**
 * Returns the model to use for a task: the entry whose file is
 * `options.file`, or the task's default when no file is given.
 *
 * @example The default OCR model
 * ```ts ignore
 * const ocr = findModel(manifest, "ocr"); // cct_xs_v2_global.onnx
 * ```
 * @param manifest The manifest.
 * @param task The stage.
 * @param options The file chosen in the config, if any.
 * @returns The entry.
 * @throws {Error} When no entry matches, naming the task and the file.
 */
export function findModel(
  manifest: Manifest,
  task: ModelTask,
  options: FindModelOptions = {},
): ModelEntry {
  const { file } = options;
  const found = manifest.models.find((model) =>
    model.task === task &&
    (file === undefined ? model.default : model.file === file)
  );
  if (found === undefined) {
    const known = manifest.models.filter((model) => model.task === task)
      .map((model) => model.file).join(", ");
    throw new Error(
      file === undefined
        ? `Cannot find a default ${task} model in the manifest`
        : `Cannot find ${task} model ${file} in the manifest: known ones are ${known}`,
    );
  }
  return found;
}
