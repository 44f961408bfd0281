/**
 * The contract between the engine and stage handlers. A handler module
 * exports `createStageHandler(category, init)`; the engine loads it inside
 * each Web Worker of that category. Types only.
 *
 * @module
 */
import type { FinalEvent, RgbImage, TaskCategory } from "./types.ts";

/** A task as a handler sees it, rebuilt from its database row. */
export interface StageTask {
  /** Task id. */
  id: number;
  /** Stage. */
  category: TaskCategory;
  /** Source clip id. */
  videoId: string;
  /** Sampled frame index, or null for clip-level tasks. */
  frameIdx: number | null;
  /** Track id, or null. */
  trackId: number | null;
  /** The payload reference: a frame path relative to the data dir, or `video:<id>`. */
  payloadRef: string;
  /** Everything else the stage needs. */
  meta: Record<string, unknown>;
  /** Attempt number, 1-based. */
  attempt: number;
}

/** A next-stage task a handler asks for. */
export interface StageChild {
  /** Track id of the child (summary tasks need one). @default {null} */
  trackId?: number | null;
  /** Frame index of a clip-level child (a summary's best frame). @default {the parent's} */
  frameIdx?: number | null;
  /** The child's meta. */
  meta: Record<string, unknown>;
}

/** What a handler returns; stored as the task's result. */
export interface StageOutput {
  /** Next-stage tasks (frame stages and plate_smooth). */
  next?: StageChild[];
  /** A final event (summary). */
  event?: FinalEvent;
  /** Anything else is kept in the result for tracing. */
  [key: string]: unknown;
}

/** What the engine knows about a clip. */
export interface ClipMeta {
  /** Clip id. */
  videoId: string;
  /** Source path. */
  path: string;
  /** ISO start time. */
  startTime: string | null;
  /** Sampling rate of frame indexes. */
  samplingFps: number;
  /** Sampled frames. */
  framesTotal: number | null;
  /** Source width. */
  width: number | null;
  /** Source height. */
  height: number | null;
}

/** Minimal logging surface handed to handlers. */
export interface StageLog {
  /** Error line. */
  error(message: string, fields?: Record<string, unknown>): void;
  /** Warning line. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Info line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Debug line. */
  debug(message: string, fields?: Record<string, unknown>): void;
}

/** Services the engine offers a running handler. */
export interface StageContext {
  /** Absolute data dir (frames, crops and evidence live under it). */
  dataDir: string;
  /**
   * Reads a frame by its payload_ref. The pixels are valid until the next
   * call (the worker reuses one buffer): copy what must outlive the task.
   */
  readFrame(ref: string): Promise<RgbImage>;
  /** The handled-or-not results of one category for the task's clip, by frame. */
  clipResults(
    category: TaskCategory,
  ): Array<{ task: StageTask; result: StageOutput }>;
  /**
   * The `done` results of one category for the task's clip in a window of
   * frames (both ends included), by frame: what a stage needs of the frames
   * just before its own (settled tracks) without reading the whole clip's.
   */
  recentResults(
    category: TaskCategory,
    frames: { fromFrame: number; toFrame: number },
  ): Array<{ frameIdx: number; result: StageOutput }>;
  /** The task's clip. */
  clip(): ClipMeta | null;
  /** Logger. */
  log: StageLog;
}

/** A stage handler, created once per worker. */
export interface StageHandler {
  /** Runs one task; a throw fails the attempt. */
  run(task: StageTask, ctx: StageContext): Promise<StageOutput> | StageOutput;
  /** Frees models and files. */
  close?(): Promise<void> | void;
}

/** Settings a handler is created with (JSON-serialisable: it crosses into the worker). */
export interface StageInit {
  /** Absolute data dir. */
  dataDir: string;
  /** Absolute models dir. */
  modelsDir: string;
  /** Inference backend choice. */
  backend: "auto" | "native" | "wasm" | "webgpu";
  /** Threads per inference session. */
  threads: number;
  /** Sampling rate. */
  samplingFps: number;
  /** Handler-specific options. */
  options: Record<string, unknown>;
}

/** The function a handler module exports as `createStageHandler`. */
export type CreateStageHandler = (
  category: TaskCategory,
  init: StageInit & { log: StageLog },
) => Promise<StageHandler> | StageHandler;
