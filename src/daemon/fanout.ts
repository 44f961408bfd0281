/**
 * The graph's shape: which tasks a handled result creates. Pure.
 *
 * - `vehicle_detect` → `plate_detect` → `ocr`: per frame, one child per item
 *   of the result's `next`, depending on the same frame.
 * - `ocr` → nothing per frame; once all of a clip's frame stages are settled
 *   the engine creates the clip's single `plate_smooth` task.
 * - `plate_smooth` → one `summary` per track in `next`.
 * - `summary` → nothing; its `event` goes to the outbox.
 *
 * @module
 */
import type { NewTask, TaskRow } from "../graph/mod.ts";
import {
  frameRef,
  type StageOutput,
  type TaskCategory,
} from "../shared/mod.ts";

/** Categories that work on single frames. */
export const FRAME_CATEGORIES: readonly TaskCategory[] = [
  "vehicle_detect",
  "plate_detect",
  "ocr",
];

const NEXT: Partial<Record<TaskCategory, TaskCategory>> = {
  vehicle_detect: "plate_detect",
  plate_detect: "ocr",
  plate_smooth: "summary",
};

/**
 * The payload_ref of a clip-level task.
 *
 * @param videoId The clip.
 * @returns The ref.
 */
export function clipRef(videoId: string): string {
  return `video:${videoId}`;
}

/**
 * The tasks a result creates.
 *
 * @param task The finished task's row.
 * @param result Its result.
 * @returns The children to enqueue (possibly none).
 * @throws {TypeError} When a summary child has no track id.
 */
export function childrenOf(task: TaskRow, result: StageOutput): NewTask[] {
  const next = NEXT[task.category];
  if (!next || !Array.isArray(result?.next)) return [];
  const ref = (JSON.parse(task.payload) as { payload_ref: string }).payload_ref;
  const deps = JSON.parse(task.dependencies ?? "[]") as string[];
  return result.next.map((child) => {
    const trackId = child.trackId ?? null;
    if (next === "summary" && trackId === null) {
      throw new TypeError(
        `Cannot create summary task for clip ${task.video_id}: child has no trackId`,
      );
    }
    return {
      category: next,
      payloadRef: ref,
      videoId: task.video_id,
      frameIdx: child.frameIdx !== undefined ? child.frameIdx : task.frame_idx,
      trackId,
      meta: child.meta ?? {},
      dependencies: deps,
      priority: task.priority ?? 0,
    };
  });
}

/**
 * The single `plate_smooth` task of a clip.
 *
 * @param videoId The clip.
 * @returns The task.
 */
export function plateSmoothTask(videoId: string): NewTask {
  return {
    category: "plate_smooth",
    payloadRef: clipRef(videoId),
    videoId,
    frameIdx: null,
    trackId: null,
    meta: {},
    dependencies: [],
  };
}

/** The payload_ref of a sampled frame (owned by the data-dir layout). */
export { frameRef } from "../shared/mod.ts";

/**
 * The first (and only) `vehicle_detect` task of a frame.
 *
 * @param videoId The clip.
 * @param index Sampled frame index.
 * @returns The task.
 */
export function frameTask(videoId: string, index: number): NewTask {
  const ref = frameRef(videoId, index);
  return {
    category: "vehicle_detect",
    payloadRef: ref,
    videoId,
    frameIdx: index,
    trackId: null,
    meta: {},
    dependencies: [ref],
  };
}
