/**
 * The engine: the composition of the pipeline's rooms over one data dir.
 * Start order: data dir lock, database (with crash recovery, see
 * recovery.ts), then while the workers load their models (pool.ts) the
 * frame sweep (frame_files.ts), dispatcher (dispatcher.ts) and decoding
 * (decoder.ts). Stop order is the reverse. Clips
 * come in through {@linkcode Engine.addClip} (intake.ts) and move through
 * their steps in clip_lifecycle.ts.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { resolve } from "node:path";
import type { Config } from "../config/mod.ts";
import {
  checkpoint,
  getVideo,
  listVideos,
  releaseLeases,
  trackSummaries,
  type VideoRow,
} from "../graph/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  type Clock,
  closeForReaders,
  type DataLayout,
  dataLayout,
  type FinalEvent,
  makeDataDir,
  systemClock,
} from "../shared/mod.ts";
import { WorkerPool } from "./pool.ts";
import { type DataDirLock, lockDataDir } from "./data_lock.ts";
import { isTransientFsError } from "./fs_fault.ts";
import type { EventSink } from "./event_sink.ts";
import { FrameFiles } from "./frame_files.ts";
import { Decoder } from "./decoder.ts";
import { Dispatcher } from "./dispatcher.ts";
import { ClipLifecycle, type Progress } from "./clip_lifecycle.ts";
import { type ClipSubmission, submitClip } from "./intake.ts";
import { openRecovered } from "./recovery.ts";
import { ClipGps, enrichEvent } from "./clip_gps.ts";
import { clipRecords } from "./clip_records.ts";

export type { EventSink } from "./event_sink.ts";
export type { ClipSubmission } from "./intake.ts";
export type { Progress } from "./clip_lifecycle.ts";
export { isDiskFull } from "./fs_fault.ts";

/** Options for {@linkcode Engine.open}. */
export interface EngineOptions {
  /** Logger. */
  log: Logger;
  /** Receives final events. */
  sink: EventSink;
  /** URL of the stage handler module. @default {config.handlers_module, else the vision stages} */
  handlersModule?: string;
  /** How many times a task may be running when the process dies before it fails. @default {5} */
  maxInterrupts?: number;
  /**
   * First and longest pause (ms) before decoding is tried again after a
   * passing file-system fault (read-only remount, I/O error, a folder of ours
   * removed); the pause doubles from the first to the longest.
   * @default {{ firstMs: 1000, maxMs: 60000 }}
   */
  fsRetry?: { firstMs: number; maxMs: number };
  /** The data-dir lock, taken by the caller before anything else (the caller releases it). @default {taken and released by the engine} */
  lock?: DataDirLock;
  /** Options given to the stage handlers (`StageInit.options`; tests inject failures through them). @default {{}} */
  handlerOptions?: Record<string, unknown>;
  /**
   * The clock of the engine's waits (the decoder's pause after a
   * file-system fault, the worker pool's task-timeout watch, the hold of
   * tracks at a segment's end, `segments.hold_s`); tests pass a
   * manual one instead of waiting. Time stamps in `pipeline.db` stay on the
   * wall clock: the workers, in other isolates, stamp leases with theirs.
   * @default {the wall clock}
   */
  clock?: Clock;
  /**
   * Work that needs the engine but not its models, run once the engine is
   * built while its workers are still loading their models (about 1 s of
   * CPU on 2 cores): `process` submits its clips here, so their hashing,
   * probing and first frames overlap model loading. {@linkcode Engine.open}
   * resolves when both are done; when either fails it closes the engine
   * (clips already submitted stay queued for the next start) and throws
   * that error, the workers' first.
   * @default {nothing}
   */
  whileWorkersLoad?: (engine: Engine) => Promise<void>;
}

const DEFAULT_HANDLERS = new URL("../vision/stages/mod.ts", import.meta.url)
  .href;

/** The pipeline engine. */
export class Engine {
  readonly config: Config;
  readonly db: DatabaseSync;
  readonly pool: WorkerPool;
  #log: Logger;
  #lock: DataDirLock | null;
  #data: DataLayout;
  #frames: FrameFiles;
  #decoder: Decoder;
  #dispatcher: Dispatcher;
  #clips: ClipLifecycle;
  #gps: ClipGps;
  #stopping = false;
  #fatal: PromiseWithResolvers<never> = Promise.withResolvers();
  #started = false;
  /** Statistics for status and bench (`ticks`: dispatcher rounds run). */
  readonly stats = {
    resultsHandled: 0,
    framesDeleted: 0,
    busyErrors: 0,
    ticks: 0,
  };

  private constructor(
    config: Config,
    db: DatabaseSync,
    pool: WorkerPool,
    lock: DataDirLock | null,
    options: EngineOptions & { gps: ClipGps },
  ) {
    this.config = config;
    this.#gps = options.gps;
    this.db = db;
    this.pool = pool;
    this.#lock = lock;
    this.#log = options.log;
    this.#fatal.promise.catch(() => {});
    const data = this.#data = dataLayout(config.data_dir);
    const isTransient = (err: unknown) => this.#isTransient(err);
    this.#frames = new FrameFiles(db, data, {
      log: options.log,
      isTransient,
      stats: this.stats,
    });
    this.#clips = new ClipLifecycle(db, {
      log: options.log,
      config,
      wake: (category) => pool.wake(category),
      cleanClip: (videoId) => this.#frames.cleanClip(videoId),
      fatal: this.#fatal.promise,
      sink: options.gps.sink(options.sink),
      clock: () => (options.clock ?? systemClock).now(),
      enrich: (event) => {
        const record = this.#gps.record(event.videoId);
        return record ? enrichEvent(event, record).event : event;
      },
      onFinish: (video, outcome) => {
        // The fleet's clip and track rows (issue 13), then the GPS file goes.
        const { clip, tracks } = clipRecords(video, {
          gps: this.#gps.record(video.video_id),
          ...outcome,
          tracks: trackSummaries(db, video.video_id),
        });
        options.sink.addClip?.(clip, tracks);
        this.#gps.forget(video.video_id);
      },
    });
    this.#dispatcher = new Dispatcher(db, {
      data,
      sink: options.gps.sink(options.sink),
      maxAttempts: config.graph.max_attempts,
      pollMs: config.graph.poll_ms,
      stats: this.stats,
      wake: (category) => pool.wake(category),
      deleteFrame: (path) => this.#frames.delete(path),
      advanceClips: (now) => this.#clips.advance(now),
      onFatal: (err) => this.#fail(err),
      skipSettledPlates: config.skipping.enabled,
    });
    this.#decoder = new Decoder(db, {
      config,
      data,
      log: options.log,
      frames: this.#frames,
      isTransient,
      fsRetry: options.fsRetry ?? { firstMs: 1000, maxMs: 60_000 },
      clock: options.clock ?? systemClock,
      onFrameQueued: () => pool.wake("vehicle_detect"),
      onDecoded: () => this.#dispatcher.wake(),
      onClipFailed: () => this.#clips.notify(),
    });
  }

  /**
   * Opens the data dir (taking its lock), recovers from a crash, starts the
   * workers and the dispatcher, and resumes unfinished clips. Decoding
   * and `options.whileWorkersLoad` start before the models are loaded.
   *
   * @param config The configuration.
   * @param options Logger, sink, handler module, work to overlap model loading.
   * @returns The running engine.
   */
  static async open(config: Config, options: EngineOptions): Promise<Engine> {
    const dataDir = resolve(config.data_dir);
    const data = dataLayout(dataDir);
    try {
      await makeDataDir(dataDir);
    } catch (err) {
      throw new Error(
        `Cannot use data_dir ${dataDir}: ${(err as Error).message}`,
      );
    }
    // Our own lock only when the caller did not take one first.
    const lock = options.lock ? null : await lockDataDir(dataDir);
    try {
      await makeDataDir(data.frames);
    } catch (err) {
      lock?.release();
      throw new Error(
        `Cannot use data_dir ${dataDir}: ${(err as Error).message}`,
      );
    }
    let db: DatabaseSync;
    try {
      db = openRecovered(data, {
        log: options.log,
        maxInterrupts: options.maxInterrupts ?? 5,
      });
    } catch (err) {
      lock?.release();
      throw err;
    }
    // ExifTool starts (and is checked) while the workers load their models.
    const gps = ClipGps.start({
      dataDir,
      log: options.log,
      exiftool: config.gps.exiftool,
    });
    const poolId = crypto.randomUUID().slice(0, 8);
    let engine: Engine | null = null;
    const pool = new WorkerPool(poolId, {
      workers: config.workers,
      groups: config.worker_groups,
      dbPath: data.pipelineDb,
      handlersModule: options.handlersModule ?? config.handlers_module ??
        DEFAULT_HANDLERS,
      init: {
        dataDir,
        modelsDir: resolve(config.models_dir),
        backend: config.inference.backend,
        threads: config.inference.threads,
        samplingFps: config.sampling_fps,
        // Config's vision section (model files, thresholds) and cameras
        // (ignore_zones) reach every stage; tests add their handlers' options.
        options: {
          ...config.vision,
          cameras: config.cameras,
          // The plate detector leaves out frames whose every vehicle holds
          // a settled plate (src/vision/online_tracks.ts).
          skip_settled_plates: config.skipping.enabled,
          ...options.handlerOptions,
        },
      },
      leaseMs: config.graph.lease_s * 1000,
      pollMs: config.graph.poll_ms,
      backoffMs: config.graph.retry_backoff_ms,
      taskTimeoutMs: config.graph.task_timeout_s * 1000,
      log: options.log,
      clock: options.clock,
      onFinished: () => {
        if (!engine) return;
        engine.#dispatcher.wake();
        engine.#frames.freed(); // the decoder re-checks its bound
      },
      onFatal: (message) => {
        // At start-up the failure reaches the caller through start(); later
        // (a replacement worker cannot load its model) it ends the engine.
        if (engine && engine.#started) engine.#fail(new Error(message));
      },
    });
    // A worker terminated while onnxruntime creates its session can crash
    // the process, so the failure path below waits for the workers to
    // settle (loaded or failed) before closing them.
    const loading = pool.start().then(() => null, (err: unknown) => ({ err }));
    engine = new Engine(
      { ...config, data_dir: dataDir },
      db,
      pool,
      lock,
      { ...options, gps },
    );
    const opening = engine.#begin(options.whileWorkersLoad).then(
      () => null,
      (err: unknown) => ({ err }),
    );
    const [unloaded, unopened] = await Promise.all([
      loading,
      opening,
      gps.ready, // its warning, if any, is part of the start
    ]);
    const failure = unloaded ?? unopened;
    if (failure) {
      await engine.close({ deadlineMs: 1000 });
      throw failure.err;
    }
    engine.#started = true;
    return engine;
  }

  /**
   * Everything of the start that does not need the models: the frame count
   * and sweep (before the dispatcher, which removes the folders of clips it
   * finishes), the dispatcher, the decoding of clips left queued, and the
   * caller's `whileWorkersLoad`.
   */
  async #begin(
    whileWorkersLoad: EngineOptions["whileWorkersLoad"],
  ): Promise<void> {
    await this.#frames.recount();
    await this.#frames.sweepOrphans();
    this.#dispatcher.start();
    for (const v of listVideos(this.db, { status: ["queued", "decoding"] })) {
      this.#decoder.enqueue(v.video_id);
    }
    await whileWorkersLoad?.(this);
  }

  /**
   * A clip's row.
   *
   * @param videoId The clip.
   * @returns The row, or null.
   */
  videoRow(videoId: string): VideoRow | null {
    return getVideo(this.db, videoId);
  }

  /**
   * Whether a clip failed for a reason of its own (undecodable, a stage
   * failed for good), not a passing fault that a restart retries: its
   * spooled copy is no longer needed.
   *
   * @param videoId The clip.
   * @returns True when it failed for good.
   */
  failedForGood(videoId: string): boolean {
    return this.#clips.failedForGood(videoId);
  }

  /** Frames currently on disk. */
  get framesOnDisk(): number {
    return this.#frames.count;
  }

  /**
   * Submits a clip: probes and hashes it, registers it, and queues decoding.
   * An unusable clip is recorded as failed with a one-line error; nothing
   * else is affected.
   *
   * @throws {Error} On a passing fault of the file system or the database
   * (read-only remount, I/O error): nothing is recorded, offer the clip again
   * later.
   * @param path The clip.
   * @param options The camera's file name when `path` is a spooled copy (its time stamp is the start time).
   * @returns What happened.
   */
  addClip(
    path: string,
    options: { originalName?: string } = {},
  ): Promise<ClipSubmission> {
    return submitClip(this.db, path, {
      log: this.#log,
      samplingFps: this.config.sampling_fps,
      isTransient: (err) => this.#isTransient(err),
      enqueueDecode: (videoId) => this.#decoder.enqueue(videoId),
      originalName: options.originalName,
      cameras: this.config.cameras,
      captureGps: (videoId, input) => this.#gps.capture(videoId, input),
    });
  }

  /**
   * Reports the tracks held at the end of some clips now (`process` and
   * `read` once all their clips are done: no further segment comes).
   *
   * @param videoIds The clips.
   * @returns Events reported.
   */
  releaseHeld(videoIds: readonly string[]): FinalEvent[] {
    return this.#clips.releaseHeld(videoIds);
  }

  #isTransient(err: unknown): boolean {
    return isTransientFsError(err, { dataDir: this.#data.root });
  }

  /**
   * Rejects when the engine cannot go on (the dispatcher hit an error it
   * cannot retry, or a replacement worker cannot load its handler); the
   * daemon exits non-zero then, so systemd restarts it.
   */
  get failed(): Promise<never> {
    return this.#fatal.promise;
  }

  /** `performance.now()` of the dispatcher's last round (the watchdog checks it is alive). */
  get lastTickAt(): number {
    return this.#dispatcher.lastTickAt;
  }

  #fail(err: Error): void {
    this.#log.error(err.message.split("\n")[0]);
    this.#fatal.reject(err);
  }

  /**
   * Progress over some clips.
   *
   * @param videoIds The clips.
   * @returns Task and clip counts.
   */
  progress(videoIds: readonly string[]): Progress {
    return this.#clips.progress(videoIds);
  }

  /**
   * Resolves when every clip is done or failed.
   *
   * @param videoIds The clips.
   * @param options Cancellation.
   * @returns The clips' rows.
   */
  waitFor(
    videoIds: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<VideoRow[]> {
    return this.#clips.waitFor(videoIds, options);
  }

  /**
   * Stops: no more decoding or claiming, running tasks get until the
   * deadline, then everything closes. Leases of tasks cut off are released
   * on the next start.
   *
   * @param options Deadline for running tasks.
   */
  async close(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#decoder.stop();
    const left = await this.pool.close({
      deadlineMs: options.deadlineMs ?? 10_000,
    });
    if (left.length) {
      this.#log.warn("tasks cut off at shutdown; they will be retried", {
        tasks: left.join(","),
      });
    }
    await this.#dispatcher.stop();
    await this.#decoder.settled();
    await this.#gps.close(); // its ExifTool process
    releaseLeases(this.db); // tasks cut off at the deadline are retried
    checkpoint(this.db);
    closeForReaders(this.db); // status/vehicles by the dashcam group
    this.db.close();
    this.#lock?.release();
  }
}
