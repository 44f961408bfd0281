/**
 * The life cycle of a clip after decoding: `decoded` (frame tasks still
 * running) -> `smoothing` (one `plate_smooth` task, then `summary` tasks) ->
 * `done` or `failed`, with its rows pruned and its frame folder cleaned at
 * the end. Also what callers ask about clips: progress, waiting for clips
 * to finish, and whether a failure was the clip's own.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { Config } from "../config/mod.ts";
import {
  enqueueTasks,
  failedTaskError,
  failureKind,
  getVideo,
  listVideos,
  pendingWork,
  pruneVideoRows,
  setFailureKind,
  setVideoStatus,
  taskCounts,
  transaction,
  type VideoRow,
} from "../graph/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { FinalEvent, TaskCategory } from "../shared/mod.ts";
import type { EventSink } from "./event_sink.ts";
import { FRAME_CATEGORIES, plateSmoothTask } from "./fanout.ts";
import {
  applyClipPlan,
  planClipEvents,
  releaseHeldTracks,
  waitsForPreviousSegment,
} from "./segment_handover.ts";

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

/** Options for {@linkcode ClipLifecycle}. */
export interface ClipLifecycleOptions {
  /** Logger. */
  log: Logger;
  /** Configuration (`graph.max_attempts`, `graph.keep_finished`). */
  config: Config;
  /** Wakes the workers of a category (new tasks were queued). */
  wake: (category: TaskCategory) => void;
  /** The clean-up of a finished clip's files. */
  cleanClip: (videoId: string) => void;
  /** Rejects when the engine cannot go on (ends {@linkcode ClipLifecycle.waitFor}). */
  fatal: Promise<never>;
  /** Receives a finished clip's final events. */
  sink: EventSink;
  /** Clock (epoch ms) for the hold of tracks at a segment's end. @default {Date.now} */
  clock?: () => number;
  /** Completes an event from its clip's records (GPS place and clock) before it is reported or held. @default {none} */
  enrich?: (event: FinalEvent) => FinalEvent;
  /**
   * Called when a clip ends, before its graph rows are pruned (the fleet's
   * clip and track rows are taken from them); must be idempotent: a crash
   * before the end commits calls it again on the next start.
   */
  onFinish?: (
    video: VideoRow,
    outcome: { status: "done" | "failed"; error: string | null },
  ) => void;
}

/** Moves clips through their steps after decoding, and answers about them. */
export class ClipLifecycle {
  #db: DatabaseSync;
  #o: ClipLifecycleOptions;
  #waiters = new Set<() => void>();
  #nextHeldCheck = 0;

  /**
   * Creates the life cycle over a graph database.
   *
   * @param db The graph database.
   * @param options See {@linkcode ClipLifecycleOptions}.
   */
  constructor(db: DatabaseSync, options: ClipLifecycleOptions) {
    this.#db = db;
    this.#o = options;
  }

  /** Wakes whoever waits in {@linkcode ClipLifecycle.waitFor} (a clip ended). */
  notify(): void {
    for (const w of this.#waiters) w();
  }

  /**
   * Moves clips whose stages have settled to their next step.
   *
   * @param now Time (ms since epoch).
   * @returns True when a clip moved.
   */
  advance(now: number): boolean {
    const db = this.#db;
    const config = this.#o.config;
    let did = false;
    this.#releaseExpiredHolds();
    for (const v of listVideos(db, { status: ["decoded", "smoothing"] })) {
      if (v.status === "decoded") {
        if (
          pendingWork(db, {
            videoId: v.video_id,
            categories: FRAME_CATEGORIES,
          }) > 0
        ) {
          continue;
        }
        transaction(db, () => {
          enqueueTasks(db, [plateSmoothTask(v.video_id)], {
            now,
            maxAttempts: config.graph.max_attempts,
          });
          setVideoStatus(db, {
            videoId: v.video_id,
            status: "smoothing",
            now,
          });
        });
        this.#o.wake("plate_smooth");
        did = true;
        continue;
      }
      const cats: TaskCategory[] = ["plate_smooth", "summary"];
      if (pendingWork(db, { videoId: v.video_id, categories: cats }) > 0) {
        continue;
      }
      // The segment before it first: its held tracks may continue here.
      if (waitsForPreviousSegment(db, { clip: v, segments: config.segments })) {
        continue;
      }
      const frames = taskCounts(db, {
        videoId: v.video_id,
        categories: FRAME_CATEGORIES,
      });
      const late = taskCounts(db, {
        videoId: v.video_id,
        categories: cats,
      });
      const smoothFailed = failedTaskError(db, {
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
      // Its events go to the outbox first (idempotent by key); then the
      // held tracks, the clip's end and the pruning of its rows commit
      // together: a crash in between repeats the same reports, once.
      const plan = planClipEvents(db, {
        clip: v,
        segments: config.segments,
        now: this.#now(),
        enrich: this.#o.enrich,
      });
      for (const event of plan.report) this.#o.sink.add(event);
      this.#o.onFinish?.(v, {
        status: smoothFailed ? "failed" : "done",
        error,
      });
      transaction(db, () => {
        applyClipPlan(db, plan);
        setVideoStatus(db, {
          videoId: v.video_id,
          status: smoothFailed ? "failed" : "done",
          error,
          platesFound: plan.plates,
          now,
        });
        if (smoothFailed) {
          setFailureKind(db, { videoId: v.video_id, kind: "tasks" });
        }
        if (!config.graph.keep_finished) {
          pruneVideoRows(db, { videoId: v.video_id });
        }
      });
      this.#o.log.info("clip finished", {
        video: v.video_id,
        status: smoothFailed ? "failed" : "done",
        failed_tasks: failedCount,
      });
      this.#o.cleanClip(v.video_id);
      did = true;
      this.notify();
    }
    return did;
  }

  #now(): number {
    return (this.#o.clock ?? Date.now)();
  }

  /**
   * Reports tracks held at a segment's end whose next segment did not come
   * within `segments.hold_s` (checked once a second of the clock).
   */
  #releaseExpiredHolds(): void {
    const now = this.#now();
    if (now < this.#nextHeldCheck) return;
    this.#nextHeldCheck = now + 1000;
    const released = releaseHeldTracks(this.#db, {
      sink: this.#o.sink,
      segments: this.#o.config.segments,
      now,
    });
    if (released.length > 0) {
      this.#o.log.info("tracks held at a segment's end reported alone", {
        events: released.length,
      });
    }
  }

  /**
   * Reports the tracks held at the end of some clips now (`process` and
   * `read`, once all their clips are done: no further segment comes).
   *
   * @param videoIds The clips.
   * @returns The events reported.
   */
  releaseHeld(videoIds: readonly string[]): FinalEvent[] {
    return releaseHeldTracks(this.#db, {
      sink: this.#o.sink,
      segments: this.#o.config.segments,
      now: this.#now(),
      videoIds,
    });
  }

  /**
   * Whether a clip failed for a reason of its own (undecodable, a stage
   * failed for good), not a passing fault that a restart retries.
   *
   * @param videoId The clip.
   * @returns True when it failed for good.
   */
  failedForGood(videoId: string): boolean {
    return getVideo(this.#db, videoId)?.status === "failed" &&
      failureKind(this.#db, videoId) !== "transient";
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
      const v = getVideo(this.#db, id);
      if (!v || v.status === "done" || v.status === "failed") {
        clipsDone++;
        continue;
      }
      const c = taskCounts(this.#db, {
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
        const s = getVideo(this.#db, id)?.status;
        return s === undefined || s === "done" || s === "failed";
      });
    while (!finished()) {
      options.signal?.throwIfAborted();
      const wait = Promise.withResolvers<void>();
      const onAbort = () => wait.resolve();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(wait.resolve);
      const timer = setTimeout(wait.resolve, 1000);
      await Promise.race([wait.promise, this.#o.fatal]);
      clearTimeout(timer);
      this.#waiters.delete(wait.resolve);
      options.signal?.removeEventListener("abort", onAbort);
    }
    return videoIds.map((id) => getVideo(this.#db, id)!).filter(Boolean);
  }
}
