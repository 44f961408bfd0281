/**
 * The engine: decodes clips into frames on disk, feeds the task graph, runs
 * the dispatcher and the worker pool, and hands final events to the sink.
 * Start order: data dir lock, database (with crash recovery), workers,
 * dispatcher, decoding. Stop order is the reverse.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { join, resolve } from "node:path";
import type { Config } from "../config/mod.ts";
import {
  checkpoint,
  enqueueTasks,
  failedTaskError,
  failExpiredLeases,
  failureKind,
  fetchUnhandled,
  findVideoBySource,
  frameTaskStatus,
  frameUsers,
  getVideo,
  handleResult,
  listVideos,
  openGraphDb,
  pendingWork,
  pruneVideoRows,
  queuedTasksIn,
  recoverInterrupted,
  registerVideo,
  releaseLeases,
  requeueTransientFailures,
  setFailureKind,
  setVideoStatus,
  taskCounts,
  transaction,
  type VideoRow,
} from "../graph/mod.ts";
import {
  BadClipError,
  clipStartTime,
  cutShortNote,
  decodeFrames,
  probeClip,
  videoIdFromHash,
} from "../ingest/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  closeForReaders,
  type FinalEvent,
  sha256File,
  type StageOutput,
} from "../shared/mod.ts";
import {
  childrenOf,
  FRAME_CATEGORIES,
  frameRef,
  frameTask,
  plateSmoothTask,
} from "./fanout.ts";
import { WorkerPool } from "./pool.ts";
import { type DataDirLock, lockDataDir } from "./data_lock.ts";
import { makeDataDir, writeDataFile } from "../shared/data_fs.ts";
import { createHash } from "node:crypto";
import {
  failureKindOfMessage,
  faultPath,
  isTransientFsError,
} from "./fs_fault.ts";

/** Where final events go: the local durable outbox. */
export interface EventSink {
  /** Stores an event; false when its key was stored before. */
  add(event: FinalEvent): boolean;
}

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
}

/** Outcome of submitting a clip. */
export interface ClipSubmission {
  /** The clip path as given. */
  path: string;
  /** Its id, when known. */
  videoId: string | null;
  /** new: queued now; known: seen before (its status says how it ended); failed: unusable. */
  state: "new" | "known" | "failed";
  /** Status of the clip's row. */
  status: VideoRow["status"] | null;
  /** One-line error for a failed clip. */
  error?: string;
}

const DEFAULT_HANDLERS = new URL("../vision/stages/mod.ts", import.meta.url)
  .href;

/** Engine progress over some clips. */
export interface Progress {
  /** Tasks finished (done or failed). */
  finished: number;
  /** Tasks known. */
  total: number;
  /** Clips finished. */
  clipsDone: number;
  /** Clips asked about. */
  clips: number;
}

/** The pipeline engine. */
export class Engine {
  readonly config: Config;
  readonly db: DatabaseSync;
  readonly pool: WorkerPool;
  #log: Logger;
  #sink: EventSink;
  #lock: DataDirLock | null;
  #decodeQueue: string[] = [];
  #decoding: Promise<void> | null = null;
  #framesOnDisk = 0;
  #frameFreed: PromiseWithResolvers<void> = Promise.withResolvers();
  #kick: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #abort = new AbortController();
  #fatal: PromiseWithResolvers<never> = Promise.withResolvers();
  #lastTickAt = performance.now();
  #started = false;
  #waiters = new Set<() => void>();
  #fsRetry: { firstMs: number; maxMs: number };
  /** The passing file-system fault decoding waits on, if any. */
  #fsFault: { path: string; since: number; delayMs: number } | null = null;
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
    options: EngineOptions,
  ) {
    this.config = config;
    this.db = db;
    this.pool = pool;
    this.#lock = lock;
    this.#log = options.log;
    this.#sink = options.sink;
    this.#fsRetry = options.fsRetry ?? { firstMs: 1000, maxMs: 60_000 };
    this.#fatal.promise.catch(() => {});
  }

  /**
   * Opens the data dir (taking its lock), recovers from a crash, starts the
   * workers and the dispatcher, and resumes unfinished clips.
   *
   * @param config The configuration.
   * @param options Logger, sink and handler module.
   * @returns The running engine.
   */
  static async open(config: Config, options: EngineOptions): Promise<Engine> {
    const dataDir = resolve(config.data_dir);
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
      await makeDataDir(join(dataDir, "frames"));
    } catch (err) {
      lock?.release();
      throw new Error(
        `Cannot use data_dir ${dataDir}: ${(err as Error).message}`,
      );
    }
    const dbPath = join(dataDir, "pipeline.db");
    let db: DatabaseSync;
    try {
      db = openGraphDb(dbPath, {
        onDamaged: ({ error, asidePath }) =>
          options.log.error(
            `${error.message}; set aside as ${asidePath} and rebuilt empty: ` +
              `clips still in the inbox are processed again (their events ` +
              `are not duplicated); delete the set-aside file once it is not needed`,
          ),
      });
    } catch (err) {
      lock?.release();
      throw err;
    }
    const recovered = recoverInterrupted(db, {
      now: Date.now(),
      maxInterrupts: options.maxInterrupts ?? 5,
    });
    if (recovered.released || recovered.failed) {
      options.log.info(
        "recovered tasks left running by a previous run",
        recovered,
      );
    }
    // Clips failed by a passing fault (read-only disk, folder removed) are
    // not the clips' fault: take them up again.
    for (
      const { videoId, error } of requeueTransientFailures(db, {
        now: Date.now(),
        classify: (e) => failureKindOfMessage(e, { dataDir }),
      })
    ) {
      options.log.info("clip failed by a passing fault; taking it up again", {
        video: videoId,
        error: error ?? "",
      });
    }
    const poolId = crypto.randomUUID().slice(0, 8);
    let engine: Engine | null = null;
    const pool = new WorkerPool(poolId, {
      workers: config.workers,
      dbPath,
      handlersModule: options.handlersModule ?? config.handlers_module ??
        DEFAULT_HANDLERS,
      init: {
        dataDir,
        modelsDir: resolve(config.models_dir),
        backend: config.inference.backend,
        threads: config.inference.threads,
        samplingFps: config.sampling_fps,
        options: {},
      },
      leaseMs: config.graph.lease_s * 1000,
      pollMs: config.graph.poll_ms,
      backoffMs: config.graph.retry_backoff_ms,
      taskTimeoutMs: config.graph.task_timeout_s * 1000,
      log: options.log,
      onFinished: () => {
        if (!engine) return;
        engine.#wake();
        engine.#frameFreed.resolve(); // the decoder re-checks its bound
      },
      onFatal: (message) => {
        // At start-up the failure reaches the caller through start(); later
        // (a replacement worker cannot load its model) it ends the engine.
        if (engine && engine.#started) engine.#fail(new Error(message));
      },
    });
    engine = new Engine(
      { ...config, data_dir: dataDir },
      db,
      pool,
      lock,
      options,
    );
    try {
      await pool.start();
    } catch (err) {
      await pool.close({ deadlineMs: 1000 });
      db.close();
      lock?.release();
      throw err;
    }
    engine.#framesOnDisk = await countFrames(join(dataDir, "frames"));
    // The sweep runs before the dispatcher: the dispatcher removes the
    // folders of clips it finishes.
    await engine.#sweepOrphanFrames();
    engine.#loop = engine.#runLoop();
    for (const v of listVideos(db, { status: ["queued", "decoding"] })) {
      engine.#enqueueDecode(v.video_id);
    }
    engine.#started = true;
    return engine;
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
    return getVideo(this.db, videoId)?.status === "failed" &&
      failureKind(this.db, videoId) !== "transient";
  }

  /** Frames currently on disk. */
  get framesOnDisk(): number {
    return this.#framesOnDisk;
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
  async addClip(
    path: string,
    options: { originalName?: string } = {},
  ): Promise<ClipSubmission> {
    const abs = resolve(path);
    let videoId: string | null = null;
    try {
      const st = await Deno.stat(abs).catch((err) => {
        if (this.#isTransient(err)) throw err;
        throw new BadClipError(
          path,
          err instanceof Deno.errors.NotFound ? "file not found" : err.message,
        );
      });
      if (!st.isFile) throw new BadClipError(path, "not a regular file");
      if (st.size === 0) throw new BadClipError(path, "file is empty");
      const mtimeMs = st.mtime?.getTime() ?? null;
      if (mtimeMs !== null) {
        const seen = findVideoBySource(this.db, {
          path: abs,
          size: st.size,
          mtimeMs,
        });
        if (seen && seen.status !== "failed") {
          return {
            path,
            videoId: seen.video_id,
            state: "known",
            status: seen.status,
          };
        }
      }
      const sha = await sha256File(abs).catch((err) => {
        if (this.#isTransient(err)) throw err;
        throw new BadClipError(path, `${err.message}`);
      });
      videoId = videoIdFromHash(sha);
      const known = getVideo(this.db, videoId);
      if (known) {
        return { path, videoId, state: "known", status: known.status };
      }
      const info = await probeClip(abs);
      const start = await clipStartTime(abs, info, options);
      registerVideo(this.db, {
        video_id: videoId,
        path: abs,
        size: st.size,
        sha256: sha,
        duration_s: info.durationS,
        fps: info.fps,
        width: info.width,
        height: info.height,
        start_time: start.startTime,
        sampling_fps: this.config.sampling_fps,
        mtime_ms: mtimeMs,
      }, { now: Date.now() });
      this.#enqueueDecode(videoId);
      return { path, videoId, state: "new", status: "queued" };
    } catch (err) {
      const message = (err as Error).message.split("\n")[0];
      if (!(err instanceof BadClipError) && this.#isTransient(err)) {
        this.#log.warn("cannot take clip now; it is offered again later", {
          path,
          error: message,
        });
        throw err;
      }
      const id = videoId ??
        "path-" + createHash("sha256").update(abs).digest("hex").slice(0, 11);
      transaction(this.db, () => {
        registerVideo(this.db, { video_id: id, path: abs }, {
          now: Date.now(),
        });
        setVideoStatus(this.db, {
          videoId: id,
          status: "failed",
          error: message,
          now: Date.now(),
        });
        setFailureKind(this.db, { videoId: id, kind: "clip" });
      });
      this.#log.error(message);
      return {
        path,
        videoId: id,
        state: "failed",
        status: "failed",
        error: message,
      };
    }
  }

  #enqueueDecode(videoId: string): void {
    if (!this.#decodeQueue.includes(videoId)) this.#decodeQueue.push(videoId);
    this.#decoding ??= this.#decodeAll().finally(() => {
      this.#decoding = null;
    });
  }

  async #decodeAll(): Promise<void> {
    while (this.#decodeQueue.length > 0 && !this.#stopping) {
      const videoId = this.#decodeQueue[0];
      try {
        await this.#decodeClip(videoId);
      } catch (err) {
        if (this.#stopping) return;
        const message = (err as Error).message.split("\n")[0];
        if (isDiskFull(err)) {
          // Transient: the clip stays 'decoding' and is taken up again once
          // frames have been processed and deleted, or after a pause.
          this.#log.warn("disk full while writing frames; decoding paused", {
            video: videoId,
            frames_on_disk: this.#framesOnDisk,
          });
          await this.#waitForSpace();
          continue;
        }
        if (this.#isTransient(err)) {
          await this.#pauseOnFsFault(videoId, err);
          continue;
        }
        // About the clip itself (undecodable): it fails, nothing else does.
        this.#log.error(message, { video: videoId });
        try {
          transaction(this.db, () => {
            setVideoStatus(this.db, {
              videoId,
              status: "failed",
              error: message,
              now: Date.now(),
            });
            setFailureKind(this.db, { videoId, kind: "clip" });
          });
        } catch (dbErr) {
          if (!this.#isTransient(dbErr)) throw dbErr;
          await this.#pauseOnFsFault(videoId, dbErr);
          continue;
        }
        this.#notify();
      }
      this.#decodeQueue.shift();
    }
  }

  #isTransient(err: unknown): boolean {
    return isTransientFsError(err, { dataDir: this.config.data_dir });
  }

  /**
   * A passing fault (read-only remount, I/O error, our frames folder
   * removed): one warning naming the path, then retries with a doubling
   * pause; the clip keeps its status and its frames.
   */
  async #pauseOnFsFault(videoId: string, err: unknown): Promise<void> {
    const error = (err as Error).message.split("\n")[0];
    const path = faultPath(err) ?? this.config.data_dir;
    if (this.#fsFault === null) {
      this.#fsFault = {
        path,
        since: Date.now(),
        delayMs: this.#fsRetry.firstMs,
      };
      this.#log.warn(
        "cannot write to the data dir; decoding paused and retried until it works",
        { path, video: videoId, error },
      );
    } else {
      this.#fsFault.delayMs = Math.min(
        this.#fsFault.delayMs * 2,
        this.#fsRetry.maxMs,
      );
      this.#log.debug("data dir still failing; retrying later", {
        path,
        video: videoId,
        retry_ms: this.#fsFault.delayMs,
        error,
      });
    }
    const delay = this.#fsFault.delayMs;
    await new Promise<void>((resolve) => {
      if (this.#stopping) return resolve();
      const timer = setTimeout(done, delay);
      const signal = this.#abort.signal;
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  /** Ends a pause on a file-system fault with one line. */
  #fsRecovered(): void {
    if (this.#fsFault === null) return;
    this.#log.info("data dir works again; decoding resumed", {
      path: this.#fsFault.path,
      paused_s: Math.round((Date.now() - this.#fsFault.since) / 1000),
    });
    this.#fsFault = null;
  }

  async #decodeClip(videoId: string): Promise<void> {
    const video = getVideo(this.db, videoId);
    if (!video) return;
    const fps = video.sampling_fps ?? this.config.sampling_fps;
    if (await this.#finishIfSourceMissing(video, fps)) return;
    const dir = join(this.config.data_dir, "frames", videoId);
    await makeDataDir(dir);
    setVideoStatus(this.db, { videoId, status: "decoding", now: Date.now() });
    let count = 0;
    if (this.#fsFault === null) { // not again on each retry of a pause
      this.#log.info("decoding clip", {
        video: videoId,
        path: video.path,
        fps,
      });
    }
    for await (
      const frame of decodeFrames(video.path, {
        fps,
        signal: this.#abort.signal,
      })
    ) {
      count++;
      const ref = frameRef(videoId, frame.index);
      const path = join(this.config.data_dir, ref);
      const status = frameTaskStatus(this.db, {
        videoId,
        frameIdx: frame.index,
      });
      if (status !== null && status !== "queued") {
        // Already processed before a restart; drop a stale copy if nobody needs it.
        if (frameUsers(this.db, { ref, excludeTaskId: -1 }) === 0) {
          await this.#deleteFrame(path);
        }
        continue;
      }
      // Back-pressure: frames still being worked on, not frame files (a
      // frame kept for a task that failed for good must not stall decoding).
      while (
        queuedTasksIn(this.db, { categories: FRAME_CATEGORIES }) >=
          this.config.graph.max_frames_on_disk &&
        !this.#stopping
      ) {
        await this.#waitForSpace();
      }
      if (this.#stopping) return;
      const fresh = await writeFrameAtomic(path, frame.ppm);
      if (fresh) this.#framesOnDisk++;
      this.#fsRecovered();
      if (status === null) {
        enqueueTasks(this.db, [frameTask(videoId, frame.index)], {
          now: Date.now(),
          maxAttempts: this.config.graph.max_attempts,
        });
        this.pool.wake("vehicle_detect");
      }
    }
    if (this.#stopping) return;
    // A file cut short (power cut, card pulled) is finished with the frames
    // it has, with a note saying so; never silently.
    const note = cutShortNote({
      framesDecoded: count,
      durationS: video.duration_s ?? 0,
      fps,
    });
    setVideoStatus(this.db, {
      videoId,
      status: "decoded",
      framesTotal: count,
      ...(note ? { error: note } : {}),
      now: Date.now(),
    });
    this.#fsRecovered();
    if (note) {
      this.#log.warn(
        "clip is cut short; finishing it with the frames decoded",
        {
          video: videoId,
          path: video.path,
          note,
        },
      );
    }
    this.#log.info("clip decoded", { video: videoId, frames: count });
    this.#wake();
  }

  /**
   * A clip whose source file went away (deleted from a fixed inbox while the
   * daemon was down, a spooled copy removed) after some of its frames were
   * decoded is finished with those frames, so their events are kept; the
   * clip is marked done with the note "source missing, N of M frames
   * processed". With no frame decoded it fails (about the clip).
   *
   * @returns True when the clip was finished here.
   * @throws {BadClipError} When the source is gone and no frame was decoded.
   */
  async #finishIfSourceMissing(video: VideoRow, fps: number): Promise<boolean> {
    try {
      await Deno.stat(video.path);
      return false;
    } catch (err) {
      if (this.#isTransient(err)) throw err; // an I/O error: pause, retry
      if (!(err instanceof Deno.errors.NotFound)) return false; // ffmpeg says
    }
    const frames = taskCounts(this.db, {
      videoId: video.video_id,
      categories: ["vehicle_detect"],
    });
    const n = frames.queued + frames.done + frames.failed;
    if (n === 0) throw new BadClipError(video.path, "file not found");
    const expected = video.duration_s
      ? Math.max(n, Math.floor(video.duration_s * fps))
      : null;
    const note = `source missing, ${n} of ${expected ?? "?"} frames processed`;
    this.#log.warn(
      "clip's source file is gone; finishing it with the frames already decoded",
      { video: video.video_id, path: video.path, frames: n, expected },
    );
    setVideoStatus(this.db, {
      videoId: video.video_id,
      status: "decoded",
      framesTotal: n,
      error: note,
      now: Date.now(),
    });
    this.#wake();
    return true;
  }

  /** Waits until a frame is freed or a task ends, or 5 s pass. */
  async #waitForSpace(): Promise<void> {
    this.#frameFreed = Promise.withResolvers();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#frameFreed.promise,
      new Promise<void>((r) => timer = setTimeout(r, 5000)),
    ]);
    clearTimeout(timer);
  }

  async #deleteFrame(path: string): Promise<void> {
    try {
      await Deno.remove(path);
      this.#framesOnDisk = Math.max(0, this.#framesOnDisk - 1);
      this.stats.framesDeleted++;
      this.#frameFreed.resolve();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      // Read-only for a while: the frame stays; the clip's clean-up or the
      // next start's sweep removes it.
      if (!this.#isTransient(err)) throw err;
      this.#log.debug("cannot delete frame now; left for the clean-up", {
        path,
        error: (err as Error).message,
      });
    }
  }

  /** Deletes frames on disk that no task needs (left by a crash). */
  async #sweepOrphanFrames(): Promise<void> {
    const root = join(this.config.data_dir, "frames");
    for await (const dir of Deno.readDir(root)) {
      if (!dir.isDirectory) continue;
      const video = getVideo(this.db, dir.name);
      if (video && (video.status === "queued" || video.status === "decoding")) {
        continue; // the decoder handles these
      }
      if (!video || video.status === "done" || video.status === "failed") {
        // Finished before the crash could tidy up: the same clean-up as at
        // completion (frames nobody needs, the folder, the crops).
        this.#cleanVideoDir(dir.name);
        continue;
      }
      const names: string[] = [];
      try {
        for await (const f of Deno.readDir(join(root, dir.name))) {
          names.push(f.name);
        }
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw err;
      }
      for (const name of names) {
        const ref = `frames/${dir.name}/${name}`;
        if (
          name.endsWith(".tmp") ||
          frameUsers(this.db, { ref, excludeTaskId: -1 }) === 0
        ) {
          await this.#deleteFrame(join(root, dir.name, name));
        }
      }
    }
  }

  #wake(): void {
    this.#kick?.();
  }

  #notify(): void {
    for (const w of this.#waiters) w();
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
    return this.#lastTickAt;
  }

  #fail(err: Error): void {
    this.#log.error(err.message.split("\n")[0]);
    this.#fatal.reject(err);
  }

  async #runLoop(): Promise<void> {
    while (!this.#stopping) {
      this.#lastTickAt = performance.now();
      this.stats.ticks++;
      let busy = false;
      try {
        busy = await this.#tick();
      } catch (err) {
        const msg = (err as Error).message;
        if (/database is locked|SQLITE_BUSY/i.test(msg)) {
          this.stats.busyErrors++;
        } else {
          this.#fail(new Error(`Dispatcher stopped: ${msg}`));
          return;
        }
      }
      if (busy) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.config.graph.poll_ms);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#kick = () => {
          this.#kick = null;
          done();
        };
      });
    }
  }

  /** One dispatcher round; returns true when it did something. */
  async #tick(): Promise<boolean> {
    const now = Date.now();
    let did = false;
    const batch = fetchUnhandled(this.db, { limit: 200 });
    for (const { resultId, task, result } of batch) {
      const out = result as StageOutput;
      if (task.category === "summary" && out?.event) {
        this.#sink.add(out.event);
      }
      const children = childrenOf(task, out);
      const inserted = handleResult(this.db, {
        resultId,
        children,
        now,
        maxAttempts: this.config.graph.max_attempts,
      });
      if (inserted > 0) this.pool.wake(children[0].category);
      this.stats.resultsHandled++;
      for (const ref of JSON.parse(task.dependencies ?? "[]") as string[]) {
        if (frameUsers(this.db, { ref, excludeTaskId: task.id }) === 0) {
          await this.#deleteFrame(join(this.config.data_dir, ref));
        }
      }
      did = true;
    }
    if (failExpiredLeases(this.db, { now }) > 0) did = true;
    if (this.#advanceVideos(now)) did = true;
    return did;
  }

  /** Moves clips whose stages have settled to their next step. */
  #advanceVideos(now: number): boolean {
    let did = false;
    for (const v of listVideos(this.db, { status: ["decoded", "smoothing"] })) {
      if (v.status === "decoded") {
        if (
          pendingWork(this.db, {
            videoId: v.video_id,
            categories: FRAME_CATEGORIES,
          }) > 0
        ) {
          continue;
        }
        transaction(this.db, () => {
          enqueueTasks(this.db, [plateSmoothTask(v.video_id)], {
            now,
            maxAttempts: this.config.graph.max_attempts,
          });
          setVideoStatus(this.db, {
            videoId: v.video_id,
            status: "smoothing",
            now,
          });
        });
        this.pool.wake("plate_smooth");
        did = true;
        continue;
      }
      const cats = ["plate_smooth", "summary"];
      if (pendingWork(this.db, { videoId: v.video_id, categories: cats }) > 0) {
        continue;
      }
      const frames = taskCounts(this.db, {
        videoId: v.video_id,
        categories: FRAME_CATEGORIES,
      });
      const late = taskCounts(this.db, {
        videoId: v.video_id,
        categories: cats,
      });
      const smoothFailed = failedTaskError(this.db, {
        videoId: v.video_id,
        category: "plate_smooth",
      });
      const failedCount = frames.failed + late.failed;
      const problem = smoothFailed
        ? `plate_smooth failed: ${smoothFailed}`
        : failedCount > 0
        ? `${failedCount} task(s) failed`
        : null;
      // A note set while decoding (source missing) stays with the clip.
      const error = [v.error, problem].filter((x) => x).join("; ") || null;
      // The clip's end and the pruning of its rows commit together, so a
      // crash between them cannot leave rows behind for good.
      transaction(this.db, () => {
        setVideoStatus(this.db, {
          videoId: v.video_id,
          status: smoothFailed ? "failed" : "done",
          error,
          now,
        });
        if (smoothFailed) {
          setFailureKind(this.db, { videoId: v.video_id, kind: "tasks" });
        }
        if (!this.config.graph.keep_finished) {
          pruneVideoRows(this.db, { videoId: v.video_id });
        }
      });
      this.#log.info("clip finished", {
        video: v.video_id,
        status: smoothFailed ? "failed" : "done",
        failed_tasks: failedCount,
      });
      this.#cleanVideoDir(v.video_id);
      did = true;
      this.#notify();
    }
    return did;
  }

  #cleanVideoDir(videoId: string): void {
    const dir = join(this.config.data_dir, "frames", videoId);
    try {
      for (const f of Deno.readDirSync(dir)) {
        const ref = `frames/${videoId}/${f.name}`;
        if (frameUsers(this.db, { ref, excludeTaskId: -1 }) === 0) {
          Deno.removeSync(join(dir, f.name));
          this.#framesOnDisk = Math.max(0, this.#framesOnDisk - 1);
          this.stats.framesDeleted++;
        }
      }
      Deno.removeSync(dir);
    } catch {
      // not empty (a failed task keeps its frame for inspection) or gone
    }
    // Plate crops were evidence candidates; the chosen ones are saved by now.
    try {
      Deno.removeSync(join(this.config.data_dir, "crops", videoId), {
        recursive: true,
      });
    } catch { /* none */ }
    this.#frameFreed.resolve();
  }

  /**
   * Progress over some clips.
   *
   * @param videoIds The clips.
   * @returns Task and clip counts.
   */
  progress(videoIds: readonly string[]): Progress {
    let finished = 0;
    let total = 0;
    let clipsDone = 0;
    for (const id of videoIds) {
      const v = getVideo(this.db, id);
      if (!v || v.status === "done" || v.status === "failed") {
        clipsDone++;
        continue;
      }
      const c = taskCounts(this.db, {
        videoId: id,
        categories: [...FRAME_CATEGORIES, "plate_smooth", "summary"],
      });
      finished += c.done + c.failed;
      total += c.done + c.failed + c.queued;
    }
    return { finished, total, clipsDone, clips: videoIds.length };
  }

  /**
   * Resolves when every clip is done or failed.
   *
   * @param videoIds The clips.
   * @param options Cancellation.
   * @returns The clips' rows.
   */
  async waitFor(
    videoIds: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<VideoRow[]> {
    const finished = () =>
      videoIds.every((id) => {
        const s = getVideo(this.db, id)?.status;
        return s === undefined || s === "done" || s === "failed";
      });
    while (!finished()) {
      options.signal?.throwIfAborted();
      const wait = Promise.withResolvers<void>();
      const onAbort = () => wait.resolve();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(wait.resolve);
      const timer = setTimeout(wait.resolve, 1000);
      await Promise.race([wait.promise, this.#fatal.promise]);
      clearTimeout(timer);
      this.#waiters.delete(wait.resolve);
      options.signal?.removeEventListener("abort", onAbort);
    }
    return videoIds.map((id) => getVideo(this.db, id)!).filter(Boolean);
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
    this.#abort.abort();
    this.#frameFreed.resolve();
    const left = await this.pool.close({
      deadlineMs: options.deadlineMs ?? 10_000,
    });
    if (left.length) {
      this.#log.warn("tasks cut off at shutdown; they will be retried", {
        tasks: left.join(","),
      });
    }
    this.#wake();
    await this.#loop;
    await this.#decoding;
    releaseLeases(this.db); // tasks cut off at the deadline are retried
    checkpoint(this.db);
    closeForReaders(this.db); // status/vehicles by the dashcam group
    this.db.close();
    this.#lock?.release();
  }
}

/**
 * Whether an error is the file system being full (ENOSPC or EDQUOT).
 *
 * @param err The error.
 * @returns True for a full disk.
 */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "ENOSPC" || e?.code === "EDQUOT" ||
    /No space left on device|Disk quota exceeded|os error 28\b/i.test(
      e?.message ?? "",
    );
}

async function countFrames(root: string): Promise<number> {
  let n = 0;
  for await (const dir of Deno.readDir(root)) {
    if (!dir.isDirectory) continue;
    for await (const f of Deno.readDir(join(root, dir.name))) {
      if (f.name.endsWith(".ppm")) n++;
    }
  }
  return n;
}

/** Writes a frame via a temp file and rename; false when the file existed already. */
async function writeFrameAtomic(
  path: string,
  bytes: Uint8Array,
): Promise<boolean> {
  let existed = false;
  try {
    const st = await Deno.stat(path);
    if (st.size === bytes.length) return false;
    existed = true; // truncated by a power cut: write it again
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const tmp = `${path}.tmp`;
  await writeDataFile(tmp, bytes);
  await Deno.rename(tmp, path);
  return !existed;
}
