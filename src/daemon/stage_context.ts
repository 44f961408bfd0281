/**
 * Builds the {@linkcode StageContext} a worker hands its handler, and turns
 * task rows into {@linkcode StageTask}s.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { clipResults, getVideo, type TaskRow } from "../graph/mod.ts";
import { decodePpm } from "../shared/mod.ts";
import type {
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

/**
 * Reads a frame file by its payload_ref.
 *
 * @param dataDir The data dir.
 * @param ref The payload_ref (relative path).
 * @returns The image.
 */
export async function readFrameFile(dataDir: string, ref: string) {
  if (ref.includes("..") || ref.startsWith("/")) {
    throw new Error(
      `Cannot read frame: bad payload_ref ${JSON.stringify(ref)}`,
    );
  }
  const path = join(dataDir, ref);
  try {
    return decodePpm(await Deno.readFile(path));
  } catch (err) {
    throw new Error(`Cannot read frame ${path}: ${(err as Error).message}`, {
      cause: err, // the errno tells a passing fault (frame being rewritten)
    });
  }
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
  options: { dataDir: string; task: StageTask; log: StageLog },
): StageContext {
  const { dataDir, task, log } = options;
  return {
    dataDir,
    log,
    readFrame: (ref) => readFrameFile(dataDir, ref),
    clipResults(category: TaskCategory) {
      return clipResults(db, { videoId: task.videoId, category }).map((r) => ({
        task: toStageTask(r.task),
        result: r.result as StageOutput,
      }));
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
