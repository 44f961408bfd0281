/**
 * Tracks followed while a clip's frames complete, and the plates they make
 * worth no more OCR. Pure, no I/O: the dispatcher hands it the OCR reads of
 * the frames just before the one being dispatched (as stored in
 * `pipeline.db`, so the state is rebuilt from durable rows after a restart or
 * a power cut and never kept only in memory).
 *
 * A track is **settled** when its last `settleReads` reads (after the plate
 * format rules) have the same text, of at least `minLength` characters, each
 * with confidence at least `minConfidence`. A plate of a new frame skips OCR
 * only when exactly one settled track claims it:
 *
 * - the track's last read is at most `maxGapFrames` sampled frames before the
 *   frame (so the reads the smoother finally sees are never further apart than
 *   its tracker's `maxGapFrames`: the track is not split, the vehicle stays one
 *   event), and
 * - the plate box overlaps the box of that last read by IoU at least
 *   `minIou` (the box has not changed a lot: same place, same size), and
 * - no other plate of the frame overlaps that box as well.
 *
 * A frame's plate detector is left out on the same grounds, with car boxes
 * ({@linkcode planPlateDetect}): when every vehicle of the frame is held by
 * a live settled track.
 *
 * A skipped plate loses nothing the smoother needs: the track already holds
 * the reads that decide its text, and a read is taken again as soon as the
 * box moves, grows (a closer, better view) or the gap would grow too long.
 *
 * @module
 */
import type { Box } from "../shared/mod.ts";
import type { PlateOnVehicle } from "./assign.ts";
import { iou } from "./nms.ts";
import { applyFormatRules } from "./plate_format.ts";
import type { FramePlateRead } from "./smooth.ts";
import { type TrackObservation, trackPlates } from "./tracker.ts";

/**
 * The tracker's `maxGapFrames` (default of `trackPlates`): the largest gap
 * between two reads of one track, in sampled frames.
 */
export const TRACK_GAP_FRAMES = 10;

/**
 * Frames before the one being planned whose reads are tracked: a settled
 * track needs its last 3 reads, each at most `TRACK_GAP_FRAMES + 1` frames
 * after the one before, and the last within `TRACK_GAP_FRAMES` of the frame;
 * 4 such spans hold them all.
 */
export const SETTLE_WINDOW_FRAMES = 4 * (TRACK_GAP_FRAMES + 1);

/**
 * The frames whose stored reads decide the settled tracks for `frameIdx`:
 * the {@linkcode SETTLE_WINDOW_FRAMES} before it (both ends included). Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settleWindow } from "./online_tracks.ts";
 * assert.deepEqual(settleWindow(50), { fromFrame: 6, toFrame: 49 });
 * assert.deepEqual(settleWindow(3), { fromFrame: 0, toFrame: 2 });
 * ```
 * @param frameIdx The frame being planned.
 * @returns The first and last frame to read.
 */
export function settleWindow(
  frameIdx: number,
): { fromFrame: number; toFrame: number } {
  return {
    fromFrame: Math.max(0, frameIdx - SETTLE_WINDOW_FRAMES),
    toFrame: frameIdx - 1,
  };
}

/** A track whose plate text is settled. */
export interface SettledTrack {
  /** The settled text. */
  text: string;
  /** Sampled frame of the track's last read. */
  lastFrameIdx: number;
  /** Plate box of that read, in frame pixels. */
  plateBox: Box;
  /** Box of the vehicle holding that read's plate, or null when the vehicle detector had not found it. */
  carBox?: Box | null;
  /** Reads in the track. */
  reads: number;
}

/** Options for {@linkcode settledTracks}. */
export interface SettledTracksOptions {
  /**
   * The last this many reads of a track must agree. 3: one more than the
   * smoother's `minReads` (2), so a settled plate is reported even if one of
   * its reads is later outvoted.
   * @default {3}
   */
  settleReads?: number;
  /**
   * Least confidence of each of those reads: the tracker's "clearly read"
   * level (0.8), well above the smoother's reporting level (0.6).
   * @default {0.8}
   */
  minConfidence?: number;
  /**
   * Fewest characters of a settled text (the smoother's `minLength`).
   * @default {3}
   */
  minLength?: number;
}

/**
 * Tracks the given reads with the smoother's tracker and returns the tracks
 * whose plate is settled.
 *
 * @param reads OCR reads of some recent frames of one clip, any order.
 * @param options Settling thresholds.
 * @returns The settled tracks.
 *
 * @example Three agreeing confident reads settle a plate
 * ```ts
 * import { settledTracks } from "./online_tracks.ts";
 * import assert from "node:assert/strict";
 * const read = (frameIdx: number) => ({
 *   frameIdx, plateBox: [100, 100, 160, 120] as [number, number, number, number],
 *   carBox: [60, 40, 220, 160] as [number, number, number, number], carFound: true, detScore: 0.9,
 *   read: { text: "AB123CD", confidence: 0.95, charProbs: [0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95] },
 * });
 * assert.deepEqual(settledTracks([read(0), read(1)]).length, 0);
 * assert.deepEqual(settledTracks([read(0), read(1), read(2)])[0].text, "AB123CD");
 * ```
 */
export function settledTracks(
  reads: readonly FramePlateRead[],
  options: SettledTracksOptions = {},
): SettledTrack[] {
  const { settleReads = 3, minConfidence = 0.8, minLength = 3 } = options;
  const observations: TrackObservation[] = reads.map((r) => ({
    frameIdx: r.frameIdx,
    plateBox: r.plateBox,
    carBox: r.carFound ? r.carBox : null,
    read: applyFormatRules(r.read),
    detScore: r.detScore,
  }));
  const out: SettledTrack[] = [];
  for (const track of trackPlates(observations)) {
    const obs = track.observations;
    if (obs.length < settleReads) continue;
    const last = obs.slice(-settleReads);
    const text = last[0].read.text;
    if (text.length < minLength) continue;
    if (
      !last.every((o) =>
        o.read.text === text && o.read.confidence >= minConfidence
      )
    ) continue;
    const tail = obs[obs.length - 1];
    out.push({
      text,
      lastFrameIdx: tail.frameIdx,
      plateBox: tail.plateBox,
      carBox: tail.carBox,
      reads: obs.length,
    });
  }
  return out;
}

/**
 * The settled tracks of stored `ocr` results (`{ reads }` payloads; others
 * are ignored), e.g. those of the {@linkcode SETTLE_WINDOW_FRAMES} frames
 * before the one being planned.
 *
 * @param results Results as stored, in frame order.
 * @returns The settled tracks.
 */
export function settledTracksOf(
  results: readonly { result: unknown }[],
): SettledTrack[] {
  const reads = results.flatMap((r) =>
    (r.result as { reads?: FramePlateRead[] } | null)?.reads ?? []
  );
  return reads.length ? settledTracks(reads) : [];
}

/** Options for {@linkcode planOcr}. */
export interface PlanOcrOptions {
  /**
   * Most sampled frames from a settled track's last read to a frame whose
   * plate may skip OCR: the tracker's `maxGapFrames`.
   * @default {10}
   */
  maxGapFrames?: number;
  /**
   * Least IoU of the plate box with the box of the track's last read: half
   * the box in common means the plate has neither moved far nor grown much.
   * @default {0.5}
   */
  minIou?: number;
}

/** Which plates of a frame go to OCR. */
export interface OcrPlan<P> {
  /** Plates to read, in their original order. */
  read: P[];
  /** Plates left unread, with the settled text of the track that holds them. */
  settled: Array<{ plate: P; text: string; lastFrameIdx: number }>;
}

/**
 * Splits a frame's plates into those to read and those a settled track
 * already holds (see the module doc for the rule).
 *
 * @param plates The frame's plates (plate detector output paired with vehicles).
 * @param options The frame, the settled tracks and thresholds.
 * @returns The plan.
 *
 * @example A plate where a settled track was last read skips OCR
 * ```ts
 * import { planOcr } from "./online_tracks.ts";
 * import assert from "node:assert/strict";
 * const plate = { plateBox: [100, 100, 160, 120] as [number, number, number, number], score: 0.9,
 *   carBox: [60, 40, 220, 160] as [number, number, number, number], carFound: true };
 * const tracks = [{ text: "AB123CD", lastFrameIdx: 7, plateBox: [102, 100, 162, 120] as [number, number, number, number], reads: 3 }];
 * assert.deepEqual(planOcr([plate], { frameIdx: 9, tracks }).read.length, 0);
 * assert.deepEqual(planOcr([plate], { frameIdx: 30, tracks }).read.length, 1);
 * ```
 */
export function planOcr<P extends Pick<PlateOnVehicle, "plateBox">>(
  plates: readonly P[],
  options: {
    frameIdx: number;
    tracks: readonly SettledTrack[];
  } & PlanOcrOptions,
): OcrPlan<P> {
  const { live, minIou } = liveTracks(options);
  // Which plates each live track could hold.
  const holders = live.map((t) =>
    plates.flatMap((p, i) => iou(p.plateBox, t.plateBox) >= minIou ? [i] : [])
  );
  const plan: OcrPlan<P> = { read: [], settled: [] };
  plates.forEach((plate, i) => {
    const claims = live.flatMap((t, k) => holders[k].includes(i) ? [t] : []);
    const only = claims.length === 1 ? claims[0] : null;
    const alone = only !== null && holders[live.indexOf(only)].length === 1;
    if (only && alone) {
      plan.settled.push({
        plate,
        text: only.text,
        lastFrameIdx: only.lastFrameIdx,
      });
    } else {
      plan.read.push(plate);
    }
  });
  return plan;
}

/**
 * Whether a frame's plate detector can be left out: the frame has at least
 * one vehicle, and each vehicle is claimed by a live settled track of its
 * own (the rule of {@linkcode planOcr}, on car boxes: the track's last read
 * at most `maxGapFrames` frames before, its vehicle's box overlapping the
 * vehicle's box by IoU at least `minIou`; a track claims one vehicle). Every
 * plate the detector could find there is then on a vehicle whose plate is
 * settled and whose box has not changed a lot, which OCR would skip anyway.
 * A plate on a vehicle the vehicle detector missed is looked for again at
 * most `maxGapFrames` frames later, when the tracks lapse; a new vehicle,
 * or one that moved, brings the detector back at once.
 *
 * On the 7 media clips at 5 fps the product leaves out 15-17 of its 227
 * plate-detector tasks (frames of following the same cars) and reports the
 * same 8 plates (`deno run -A test/bench/skip_bench.ts`, 2026-12-01); with
 * every OCR result of the frames before at hand (a replay of stored
 * detections), 23 of 233.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planPlateDetect } from "./online_tracks.ts";
 * const track = { text: "AB123CD", lastFrameIdx: 7, plateBox: [102, 100, 162, 120] as [number, number, number, number],
 *   carBox: [60, 40, 220, 160] as [number, number, number, number], reads: 3 };
 * const car = { box: [62, 42, 222, 160] as [number, number, number, number] };
 * assert.equal(planPlateDetect([car], { frameIdx: 9, tracks: [track] }), true);
 * assert.equal(planPlateDetect([car, { box: [300, 40, 460, 160] }], { frameIdx: 9, tracks: [track] }), false);
 * ```
 * @param vehicles The frame's vehicles (boxes in frame pixels).
 * @param options The frame, the settled tracks of the frames before it, the gap and IoU.
 * @returns True when the plate detector (and so OCR) can be left out.
 */
export function planPlateDetect(
  vehicles: readonly { box: Box }[],
  options: {
    frameIdx: number;
    tracks: readonly SettledTrack[];
  } & PlanOcrOptions,
): boolean {
  if (vehicles.length === 0) return false;
  const tracks = liveTracks(options);
  const minIou = tracks.minIou;
  const live = tracks.live.filter((t) => t.carBox);
  const taken = new Set<number>();
  return vehicles.every((v) => {
    const k = live.findIndex((t, i) =>
      !taken.has(i) && iou(v.box, t.carBox!) >= minIou
    );
    if (k < 0) return false;
    taken.add(k);
    return true;
  });
}

/**
 * The options {@linkcode planOcr} and {@linkcode planPlateDetect} share, with
 * their defaults applied: the tracks whose last read is before `frameIdx`
 * and at most `maxGapFrames` frames before it, and the least IoU.
 */
function liveTracks(
  options: {
    frameIdx: number;
    tracks: readonly SettledTrack[];
  } & PlanOcrOptions,
): { live: SettledTrack[]; minIou: number } {
  const {
    frameIdx,
    tracks,
    maxGapFrames = TRACK_GAP_FRAMES,
    minIou = 0.5,
  } = options;
  const live = tracks.filter((t) =>
    t.lastFrameIdx < frameIdx && frameIdx - t.lastFrameIdx <= maxGapFrames
  );
  return { live, minIou };
}
