/**
 * OCR only where it can change the result: when the dispatcher turns a
 * `plate_detect` result into `ocr` tasks, plates that a settled track already
 * holds are left out (see `src/vision/online_tracks.ts` for the rule; the
 * plate detector's own rule runs in its stage, `src/vision/stages/mod.ts`,
 * when the task is claimed). The tracks are rebuilt from the clip's OCR
 * results of the frames just before, as stored in `pipeline.db`, so a
 * restart or a power cut loses no state: the decision is taken again from
 * the same durable rows when the result is handled after the restart.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { type NewTask, recentResults } from "../graph/mod.ts";
import {
  planOcr,
  type PlateOnVehicle,
  type SettledTrack,
  settledTracksOf,
  settleWindow,
  TRACK_GAP_FRAMES,
} from "../vision/mod.ts";

/** What {@linkcode planOcrTasks} did. */
export interface OcrTasksPlan {
  /** The `ocr` tasks to create: the plates still to read (tasks left with none are dropped). */
  children: NewTask[];
  /** Plates left unread because a settled track holds them. */
  settled: number;
}

/**
 * Leaves out of a frame's `ocr` tasks the plates that a settled track holds.
 *
 * @param db The graph database (the clip's OCR results are read from it).
 * @param children The `ocr` tasks made from one frame's `plate_detect` result (`meta.plates`).
 * @returns The tasks to create and how many plates were left unread.
 */
export function planOcrTasks(
  db: DatabaseSync,
  children: readonly NewTask[],
): OcrTasksPlan {
  const out: OcrTasksPlan = { children: [], settled: 0 };
  for (const child of children) {
    const plates = child.meta.plates as PlateOnVehicle[] | undefined;
    const frameIdx = child.frameIdx;
    if (
      child.category !== "ocr" || frameIdx === null || !Array.isArray(plates)
    ) {
      out.children.push(child);
      continue;
    }
    const tracks = settledBefore(db, child.videoId, frameIdx);
    const plan = planOcr(plates, {
      frameIdx,
      tracks,
      maxGapFrames: TRACK_GAP_FRAMES,
    });
    out.settled += plan.settled.length;
    if (plan.read.length === 0) continue;
    out.children.push({ ...child, meta: { ...child.meta, plates: plan.read } });
  }
  return out;
}

/** The settled tracks of a clip's OCR reads in the frames just before `frameIdx`. */
function settledBefore(
  db: DatabaseSync,
  videoId: string,
  frameIdx: number,
): SettledTrack[] {
  return settledTracksOf(recentResults(db, {
    videoId,
    category: "ocr",
    ...settleWindow(frameIdx),
  }));
}
