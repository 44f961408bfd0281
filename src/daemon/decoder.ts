/**
 * The decoder: decodes queued clips one at a time into frame files, queues
 * a `vehicle_detect` task per frame, and holds back while the frames still
 * being worked on reach `graph.max_frames_on_disk` (back-pressure). A full
 * disk or a passing file-system fault pauses decoding (a doubling pause for
 * the fault); a clip that cannot be decoded fails alone.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { Config } from "../config/mod.ts";
import {
  enqueueTasks,
  frameTaskStatus,
  frameUsers,
  getVideo,
  queuedTasksIn,
  setFailureKind,
  setVideoStatus,
  taskCounts,
  transaction,
  type VideoRow,
} from "../graph/mod.ts";
import {
  BadClipError,
  cutShortNote,
  decodedFraction,
  decodeFrames,
  decodeThreads,
} from "../ingest/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  Backoff,
  type Clock,
  type DataLayout,
  makeDataDir,
} from "../shared/mod.ts";
import { FRAME_CATEGORIES, frameRef, frameTask } from "./fanout.ts";
import type { FrameFiles } from "./frame_files.ts";
import { createFrameGate } from "./frame_gate.ts";
import { faultPath, isDiskFull } from "./fs_fault.ts";

/** Options for {@linkcode Decoder}. */
export interface DecoderOptions {
  /** Logger. */
  log: Logger;
  /** The frame files (written here, counted for back-pressure). */
  frames: FrameFiles;
  /** Whether an error is a passing file-system fault. */
  isTransient: (err: unknown) => boolean;
  /** First and longest pause (ms) after a passing file-system fault. */
  fsRetry: { firstMs: number; maxMs: number };
  /** Waits of the pause (tests pass a manual clock). */
  clock: Clock;
  /** Called when frame tasks were queued (wakes the workers). */
  onFrameQueued: () => void;
  /** Called when a clip is decoded (wakes the dispatcher). */
  onDecoded: () => void;
  /** Called when a clip failed here (wakes whoever waits for clips). */
  onClipFailed: () => void;
}

/** Decodes queued clips into frame files, one at a time. */
export class Decoder {
  #db: DatabaseSync;
  #config: Config;
  #data: DataLayout;
  #o: DecoderOptions;
  #queue: string[] = [];
  #decoding: Promise<void> | null = null;
  #stopping = false;
  #abort = new AbortController();
  /** The passing file-system fault decoding waits on, if any. */
  #fsFault: { path: string; since: number } | null = null;
  #fsBackoff: Backoff;

  /**
   * Creates the decoder (idle until a clip is queued).
   *
   * @param db The graph database.
   * @param options Configuration, layout and the hooks of {@linkcode DecoderOptions}.
   */
  constructor(
    db: DatabaseSync,
    options: DecoderOptions & { config: Config; data: DataLayout },
  ) {
    this.#db = db;
    this.#config = options.config;
    this.#data = options.data;
    this.#o = options;
    this.#fsBackoff = new Backoff({
      firstMs: options.fsRetry.firstMs,
      maxMs: options.fsRetry.maxMs,
    });
  }

  /**
   * Queues a clip for decoding (once).
   *
   * @param videoId The clip.
   */
  enqueue(videoId: string): void {
    if (!this.#queue.includes(videoId)) this.#queue.push(videoId);
    this.#decoding ??= this.#decodeAll().finally(() => {
      this.#decoding = null;
    });
  }

  /** Stops decoding: the running ffmpeg is cut off, pauses end. */
  stop(): void {
    this.#stopping = true;
    this.#abort.abort();
    this.#o.frames.freed();
  }

  /** Resolves when the decoding under way (if any) has returned. */
  async settled(): Promise<void> {
    await this.#decoding;
  }

  async #decodeAll(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopping) {
      const videoId = this.#queue[0];
      try {
        await this.#decodeClip(videoId);
      } catch (err) {
        if (this.#stopping) return;
        const message = (err as Error).message.split("\n")[0];
        if (isDiskFull(err)) {
          // Transient: the clip stays 'decoding' and is taken up again once
          // frames have been processed and deleted, or after a pause.
          this.#o.log.warn("disk full while writing frames; decoding paused", {
            video: videoId,
            frames_on_disk: this.#o.frames.count,
          });
          await this.#o.frames.waitForSpace();
          continue;
        }
        if (this.#o.isTransient(err)) {
          await this.#pauseOnFsFault(videoId, err);
          continue;
        }
        // About the clip itself (undecodable): it fails, nothing else does.
        this.#o.log.error(message, { video: videoId });
        try {
          transaction(this.#db, () => {
            setVideoStatus(this.#db, {
              videoId,
              status: "failed",
              error: message,
              now: Date.now(),
            });
            setFailureKind(this.#db, { videoId, kind: "clip" });
          });
        } catch (dbErr) {
          if (!this.#o.isTransient(dbErr)) throw dbErr;
          await this.#pauseOnFsFault(videoId, dbErr);
          continue;
        }
        this.#o.onClipFailed();
      }
      this.#queue.shift();
    }
  }

  /**
   * A passing fault (read-only remount, I/O error, our frames folder
   * removed): one warning naming the path, then retries with a doubling
   * pause; the clip keeps its status and its frames.
   */
  async #pauseOnFsFault(videoId: string, err: unknown): Promise<void> {
    const error = (err as Error).message.split("\n")[0];
    const path = faultPath(err) ?? this.#data.root;
    const delay = this.#fsBackoff.next();
    if (this.#fsFault === null) {
      this.#fsFault = { path, since: Date.now() };
      this.#o.log.warn(
        "cannot write to the data dir; decoding paused and retried until it works",
        { path, video: videoId, error },
      );
    } else {
      this.#o.log.debug("data dir still failing; retrying later", {
        path,
        video: videoId,
        retry_ms: delay,
        error,
      });
    }
    if (this.#stopping) return;
    await this.#o.clock.sleep(delay, this.#abort.signal);
  }

  /** Ends a pause on a file-system fault with one line. */
  #fsRecovered(): void {
    if (this.#fsFault === null) return;
    this.#o.log.info("data dir works again; decoding resumed", {
      path: this.#fsFault.path,
      paused_s: Math.round((Date.now() - this.#fsFault.since) / 1000),
    });
    this.#fsFault = null;
    this.#fsBackoff.reset();
  }

  async #decodeClip(videoId: string): Promise<void> {
    const db = this.#db;
    const video = getVideo(db, videoId);
    if (!video) return;
    const fps = video.sampling_fps ?? this.#config.sampling_fps;
    if (await this.#finishIfSourceMissing(video, fps)) return;
    await makeDataDir(this.#data.framesOf(videoId));
    setVideoStatus(db, { videoId, status: "decoding", now: Date.now() });
    let count = 0;
    // Fed every decoded frame in order, so a restart skips the same frames.
    const gate = createFrameGate({ enabled: this.#config.skipping.enabled });
    if (this.#fsFault === null) { // not again on each retry of a pause
      this.#o.log.info("decoding clip", {
        video: videoId,
        path: video.path,
        fps,
      });
    }
    for await (
      const frame of decodeFrames(video.path, {
        fps,
        threads: decodeThreads(this.#config.decode_threads, {
          cores: navigator.hardwareConcurrency,
        }),
        // Chosen by intake's probe; a row from before migration 7 probes again.
        ...(video.stream_index != null
          ? { streamIndex: video.stream_index }
          : {}),
        // Each frame is written out before the next is asked for.
        reuseBuffer: true,
        signal: this.#abort.signal,
      })
    ) {
      count++;
      const keep = gate.next(frame.ppm).process;
      const ref = frameRef(videoId, frame.index);
      const path = this.#data.resolve(ref);
      const status = frameTaskStatus(db, { videoId, frameIdx: frame.index });
      if (status !== null && status !== "queued") {
        // Already processed before a restart; drop a stale copy if nobody needs it.
        if (frameUsers(db, { ref, excludeTaskId: -1 }) === 0) {
          await this.#o.frames.delete(path);
        }
        continue;
      }
      // A still frame: no file, no task, no detector run.
      if (!keep && status === null) continue;
      // Back-pressure: frames still being worked on, not frame files (a
      // frame kept for a task that failed for good must not stall decoding).
      while (
        queuedTasksIn(db, { categories: FRAME_CATEGORIES }) >=
          this.#config.graph.max_frames_on_disk &&
        !this.#stopping
      ) {
        await this.#o.frames.waitForSpace();
      }
      if (this.#stopping) return;
      await this.#o.frames.write(path, frame.ppm);
      this.#fsRecovered();
      if (status === null) {
        enqueueTasks(db, [frameTask(videoId, frame.index)], {
          now: Date.now(),
          maxAttempts: this.#config.graph.max_attempts,
        });
        this.#o.onFrameQueued();
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
    setVideoStatus(db, {
      videoId,
      status: "decoded",
      framesTotal: count,
      decodedFraction: decodedFraction({
        framesDecoded: count,
        durationS: video.duration_s ?? 0,
        fps,
      }),
      ...(note ? { error: note } : {}),
      now: Date.now(),
    });
    this.#fsRecovered();
    if (note) {
      this.#o.log.warn(
        "clip is cut short; finishing it with the frames decoded",
        {
          video: videoId,
          path: video.path,
          note,
        },
      );
    }
    this.#o.log.info("clip decoded", { video: videoId, frames: count });
    this.#o.onDecoded();
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
      if (this.#o.isTransient(err)) throw err; // an I/O error: pause, retry
      if (!(err instanceof Deno.errors.NotFound)) return false; // ffmpeg says
    }
    const frames = taskCounts(this.#db, {
      videoId: video.video_id,
      categories: ["vehicle_detect"],
    });
    const n = frames.queued + frames.done + frames.failed;
    if (n === 0) throw new BadClipError(video.path, "file not found");
    const expected = video.duration_s
      ? Math.max(n, Math.floor(video.duration_s * fps))
      : null;
    const note = `source missing, ${n} of ${expected ?? "?"} frames processed`;
    this.#o.log.warn(
      "clip's source file is gone; finishing it with the frames already decoded",
      { video: video.video_id, path: video.path, frames: n, expected },
    );
    setVideoStatus(this.#db, {
      videoId: video.video_id,
      status: "decoded",
      framesTotal: n,
      error: note,
      now: Date.now(),
    });
    this.#o.onDecoded();
    return true;
  }
}
