/**
 * Builds the {@linkcode StageContext} a worker hands its handler, and turns
 * task rows into {@linkcode StageTask}s.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  clipResults,
  getVideo,
  recentResults,
  type TaskRow,
} from "../graph/mod.ts";
import { decodePpm } from "../shared/mod.ts";
import type {
  RgbImage,
  StageContext,
  StageLog,
  StageOutput,
  StageTask,
  TaskCategory,
} from "../shared/mod.ts";

/**
 * Rebuilds a handler's task from its database row.
 *
 * @param row The `tasks` row.
 * @returns The task.
 */
export function toStageTask(row: TaskRow): StageTask {
  return {
    id: row.id,
    category: row.category,
    videoId: row.video_id,
    frameIdx: row.frame_idx,
    trackId: row.track_id,
    payloadRef: (JSON.parse(row.payload) as { payload_ref: string })
      .payload_ref,
    meta: JSON.parse(row.meta ?? "{}"),
    attempt: row.attempts,
  };
}

/** Reads frames by payload_ref; see {@linkcode frameFileReader}. */
export type FrameFileReader = (ref: string) => Promise<RgbImage>;

/**
 * A reader of frame files that reads every frame into one buffer, grown to
 * the largest frame seen and then reused: a stage worker reads a 2.7 MB
 * (720p) to 6 MB (1080p) file per task, and a fresh buffer for each left
 * tens of MB of dead frames per worker between garbage collections (and
 * a page fault per 4 KiB written). The image a call returns is valid
 * until the next call: a worker runs one task at a time, and a handler
 * that keeps pixels past its task copies them.
 *
 * @param dataDir The data dir.
 * @returns The reader.
 */
export function frameFileReader(dataDir: string): FrameFileReader {
  let buffer = new Uint8Array(0);
  return async (ref) => {
    if (ref.includes("..") || ref.startsWith("/")) {
      throw new Error(
        `Cannot read frame: bad payload_ref ${JSON.stringify(ref)}`,
      );
    }
    const path = join(dataDir, ref);
    try {
      using file = await Deno.open(path);
      const { size } = await file.stat();
      if (buffer.length < size) buffer = new Uint8Array(size);
      let n = 0;
      while (n < size) {
        const got = await file.read(buffer.subarray(n, size));
        if (got === null) break;
        n += got;
      }
      return decodePpm(buffer.subarray(0, n));
    } catch (err) {
      throw new Error(`Cannot read frame ${path}: ${(err as Error).message}`, {
        cause: err, // the errno tells a passing fault (frame being rewritten)
      });
    }
  };
}

/**
 * Creates the context for one task.
 *
 * @param db The worker's connection.
 * @param options Data dir, the task and a logger.
 * @returns The context.
 */
export function createStageContext(
  db: DatabaseSync,
  options: {
    dataDir: string;
    task: StageTask;
    log: StageLog;
    /** The worker's frame reader. @default {one for this task} */
    readFrame?: FrameFileReader;
  },
): StageContext {
  const { dataDir, task, log } = options;
  const readFrame = options.readFrame ?? frameFileReader(dataDir);
  return {
    dataDir,
    log,
    readFrame,
    clipResults(category: TaskCategory) {
      return clipResults(db, { videoId: task.videoId, category }).map((r) => ({
        task: toStageTask(r.task),
        result: r.result as StageOutput,
      }));
    },
    recentResults(category, frames) {
      return recentResults(db, {
        videoId: task.videoId,
        category,
        ...frames,
      }) as Array<{ frameIdx: number; result: StageOutput }>;
    },
    clip() {
      const v = getVideo(db, task.videoId);
      if (!v) return null;
      return {
        videoId: v.video_id,
        path: v.path,
        startTime: v.start_time,
        samplingFps: v.sampling_fps ?? 5,
        framesTotal: v.frames_total,
        width: v.width,
        height: v.height,
      };
    },
  };
}
