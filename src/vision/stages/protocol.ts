/**
 * The payloads of the vision stages, one named type per edge of the task
 * graph, and the options a stage is created with. A payload crosses a
 * worker boundary as JSON (the `meta` of the next task, the `result` of the
 * task); each has a `parse…` function that checks the shape and returns the
 * typed value, or throws one line naming the field, so no handler casts
 * JSON.
 *
 * ```
 * frame ─ vehicle_detect ─ VehiclesPayload ─ plate_detect ─ PlatesPayload ─ ocr
 *   ─ ReadsPayload (per frame) ─ plate_smooth ─ SummaryPayload (per track) ─ summary
 * ```
 *
 * A photo (`read`) goes through the same stage functions
 * (`frame_stages.ts`) with the same {@linkcode VisionStageOptions}.
 *
 * @module
 */
import type { Box, Detection, PlateRead } from "../../shared/mod.ts";
import type { PlateOnVehicle } from "../assign.ts";
import { type Config, DEFAULTS } from "../../config/mod.ts";
import type { FramePlateRead } from "../smooth.ts";

export type { FramePlateRead, PlateOnVehicle };

/** `vehicle_detect` → `plate_detect`: the vehicles of the frame. */
export interface VehiclesPayload {
  /** Vehicles (COCO car, motorcycle, bus, truck), best first. */
  vehicles: Detection[];
}

/** `plate_detect` → `ocr`: the frame's plates, each with its vehicle. */
export interface PlatesPayload {
  /** Plates, best first. */
  plates: PlateOnVehicle[];
}

/** Result of `ocr`: every plate of the frame read; `plate_smooth` gathers these. */
export interface ReadsPayload {
  /** One read per plate of the frame. */
  reads: FramePlateRead[];
}

/** `plate_smooth` → `summary`: one voted plate of one track. */
export interface SummaryPayload {
  /** Voted text. */
  text: string;
  /** Confidence of the text, 0..1. */
  confidence: number;
  /** Reads agreeing exactly with the text. */
  support: number;
  /** Reads in the track. */
  reads: number;
  /** First sampled frame of the track. */
  firstFrame: number;
  /** Last sampled frame of the track. */
  lastFrame: number;
  /** Plate box of the best read, frame pixels. */
  plateBox: Box;
  /** Vehicle box of the best read, frame pixels. */
  carBox: Box;
  /** payload_ref of the best read's crop, or null when none was saved. */
  crop: string | null;
  /** payload_ref of the best read's vehicle crop, or null. */
  vehicleCrop: string | null;
}

/**
 * What config chooses for the vision stages: config's `vision` section as
 * it is (`StageInit.options` of the built-in handlers; JSON, it crosses
 * into the workers). Photos (`read`) get the same.
 */
export type VisionStageOptions = Config["vision"];

/** The default {@linkcode VisionStageOptions} (config defaults). */
export const DEFAULT_VISION_OPTIONS: VisionStageOptions = DEFAULTS.vision;

/** A payload that does not have its shape; one line naming the field. */
export class PayloadError extends Error {
  override name = "PayloadError";
}

type Json = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new PayloadError(`Cannot read ${where}: ${what}`);
}

function object(v: unknown, where: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(where, "not an object");
  }
  return v as Json;
}

function array(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, "not an array");
  return v;
}

function num(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    fail(where, "not a finite number");
  }
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string") fail(where, "not a string");
  return v;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") fail(where, "not a boolean");
  return v;
}

function box(v: unknown, where: string): Box {
  const a = array(v, where);
  if (a.length !== 4) fail(where, "not a box of 4 numbers");
  return [
    num(a[0], where),
    num(a[1], where),
    num(a[2], where),
    num(a[3], where),
  ];
}

function detection(v: unknown, where: string): Detection {
  const o = object(v, where);
  return {
    box: box(o.box, `${where}.box`),
    score: num(o.score, `${where}.score`),
    classId: num(o.classId, `${where}.classId`),
  };
}

function plateOnVehicle(v: unknown, where: string): PlateOnVehicle {
  const o = object(v, where);
  return {
    plateBox: box(o.plateBox, `${where}.plateBox`),
    score: num(o.score, `${where}.score`),
    carBox: box(o.carBox, `${where}.carBox`),
    carFound: bool(o.carFound, `${where}.carFound`),
  };
}

function plateRead(v: unknown, where: string): PlateRead {
  const o = object(v, where);
  const out: PlateRead = {
    text: str(o.text, `${where}.text`),
    confidence: num(o.confidence, `${where}.confidence`),
    charProbs: array(o.charProbs, `${where}.charProbs`).map((p, i) =>
      num(p, `${where}.charProbs[${i}]`)
    ),
  };
  if (o.region !== undefined) out.region = str(o.region, `${where}.region`);
  if (o.regionProb !== undefined) {
    out.regionProb = num(o.regionProb, `${where}.regionProb`);
  }
  if (o.slotTop !== undefined) {
    out.slotTop = array(o.slotTop, `${where}.slotTop`).map((slot, i) =>
      array(slot, `${where}.slotTop[${i}]`).map((pair, j) => {
        const at = `${where}.slotTop[${i}][${j}]`;
        const p = array(pair, at);
        return [str(p[0], at), num(p[1], at)] as [string, number];
      })
    );
  }
  return out;
}

function framePlateRead(v: unknown, where: string): FramePlateRead {
  const o = object(v, where);
  const out: FramePlateRead = {
    frameIdx: num(o.frameIdx, `${where}.frameIdx`),
    plateBox: box(o.plateBox, `${where}.plateBox`),
    carBox: box(o.carBox, `${where}.carBox`),
    carFound: bool(o.carFound, `${where}.carFound`),
    detScore: num(o.detScore, `${where}.detScore`),
    read: plateRead(o.read, `${where}.read`),
  };
  if (o.crop !== undefined) out.crop = str(o.crop, `${where}.crop`);
  if (o.atEdge !== undefined) out.atEdge = bool(o.atEdge, `${where}.atEdge`);
  if (o.vehicleCrop !== undefined) {
    out.vehicleCrop = str(o.vehicleCrop, `${where}.vehicleCrop`);
  }
  return out;
}

/**
 * Checks a `plate_detect` task's meta.
 *
 * @param v The meta (parsed JSON).
 * @returns The payload.
 * @throws {PayloadError} One line naming the field out of shape.
 */
export function parseVehiclesPayload(v: unknown): VehiclesPayload {
  const o = object(v, "vehicles payload");
  return {
    vehicles: array(o.vehicles, "vehicles payload.vehicles").map((d, i) =>
      detection(d, `vehicles payload.vehicles[${i}]`)
    ),
  };
}

/**
 * Checks an `ocr` task's meta.
 *
 * @param v The meta (parsed JSON).
 * @returns The payload.
 * @throws {PayloadError} One line naming the field out of shape.
 */
export function parsePlatesPayload(v: unknown): PlatesPayload {
  const o = object(v, "plates payload");
  return {
    plates: array(o.plates, "plates payload.plates").map((p, i) =>
      plateOnVehicle(p, `plates payload.plates[${i}]`)
    ),
  };
}

/**
 * Checks an `ocr` task's result.
 *
 * @param v The result (parsed JSON).
 * @returns The payload; a result without `reads` (a frame without plates
 * never reaches `ocr`) has none.
 * @throws {PayloadError} One line naming the field out of shape.
 */
export function parseReadsPayload(v: unknown): ReadsPayload {
  const o = object(v, "reads payload");
  if (o.reads === undefined) return { reads: [] };
  return {
    reads: array(o.reads, "reads payload.reads").map((r, i) =>
      framePlateRead(r, `reads payload.reads[${i}]`)
    ),
  };
}

/**
 * Checks a `summary` task's meta.
 *
 * @param v The meta (parsed JSON).
 * @returns The payload.
 * @throws {PayloadError} One line naming the field out of shape.
 */
export function parseSummaryPayload(v: unknown): SummaryPayload {
  const o = object(v, "summary payload");
  const w = "summary payload";
  return {
    text: str(o.text, `${w}.text`),
    confidence: num(o.confidence, `${w}.confidence`),
    support: num(o.support, `${w}.support`),
    reads: num(o.reads, `${w}.reads`),
    firstFrame: num(o.firstFrame, `${w}.firstFrame`),
    lastFrame: num(o.lastFrame, `${w}.lastFrame`),
    plateBox: box(o.plateBox, `${w}.plateBox`),
    carBox: box(o.carBox, `${w}.carBox`),
    crop: o.crop === null || o.crop === undefined
      ? null
      : str(o.crop, `${w}.crop`),
    vehicleCrop: o.vehicleCrop === null || o.vehicleCrop === undefined
      ? null
      : str(o.vehicleCrop, `${w}.vehicleCrop`),
  };
}

/**
 * Checks the handler options (`StageInit.options`); missing keys take
 * {@linkcode DEFAULT_VISION_OPTIONS}.
 *
 * @param v The options.
 * @returns The options.
 * @throws {PayloadError} One line naming the field out of shape.
 */
export function parseVisionOptions(v: unknown): VisionStageOptions {
  const o = object(v ?? {}, "vision options");
  const models = { ...DEFAULT_VISION_OPTIONS.models };
  if (o.models !== undefined) {
    const m = object(o.models, "vision options.models");
    for (const task of ["vehicle_detect", "plate_detect", "ocr"] as const) {
      if (m[task] !== undefined && m[task] !== null) {
        models[task] = str(m[task], `vision options.models.${task}`);
      }
    }
  }
  return {
    models,
    min_plate_confidence: o.min_plate_confidence === undefined
      ? DEFAULT_VISION_OPTIONS.min_plate_confidence
      : num(o.min_plate_confidence, "vision options.min_plate_confidence"),
  };
}
