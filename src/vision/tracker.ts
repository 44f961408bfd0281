/**
 * Tracks plates (and the vehicles carrying them) across the sampled frames of
 * one clip. Pure, no I/O, deterministic: the same observations, in any order,
 * give the same tracks with the same ids, so a task rebuilt after a crash
 * gives the same events.
 *
 * Frames are visited in order. In each frame, every (live track, observation)
 * pair that passes the gate gets a cost; pairs are taken greedily by rising
 * cost, each track and each observation at most once, so two plates of one
 * frame never share a track. Observations left over start new tracks. Then
 * {@linkcode mergeTracks} joins tracks that were split by a long occlusion or
 * a jump of the boxes but read the same plate.
 *
 * The pair cost (lower is better):
 *
 * `cost = (1 - IoU) + 0.5 * min(d, 2) + t`
 *
 * - IoU of the observation's box with the track's predicted box. Car boxes are
 *   used when both the track's last observation and the new one have one,
 *   plate boxes otherwise. The prediction moves the last box at constant
 *   velocity, taken from the centres of the track's last two observations.
 * - `d`: distance from the observation's box centre to the predicted centre,
 *   divided by the larger side of the track's last box.
 * - `t`: normalised edit distance between the observation's text and the
 *   track's leading text (the text with the most summed confidence so far);
 *   0.5 when either is empty.
 *
 * The gate: a pair is a candidate when `IoU >= minIou`, or
 * `d <= maxCentreDistance * sqrt(frames since the track was last seen)` (the
 * prediction gets less certain with time), or the texts are identical and at
 * least 4 characters long (the same plate, even if the boxes jumped). A pair is
 * refused when both texts are confident (read confidence >= 0.8, and a read of
 * the track's leading text >= 0.8) and at least half their characters differ:
 * two clearly different plates are two vehicles.
 *
 * @module
 */

import type { Box, PlateRead } from "../shared/mod.ts";
import { iou } from "./nms.ts";
import { votePlate } from "./plate_vote.ts";
import { editDistance, normalizedEditDistance } from "../shared/mod.ts";

/** One plate seen in one sampled frame. */
export interface TrackObservation {
  /** Index of the sampled frame. */
  frameIdx: number;
  /** Plate box in source-frame pixels. */
  plateBox: Box;
  /** Box of the vehicle carrying the plate, or null when none contains it. */
  carBox: Box | null;
  /** OCR read of the plate. */
  read: PlateRead;
  /** Plate detector score in 0..1. */
  detScore: number;
}

/** The observations of one plate/vehicle over the clip. */
export interface Track {
  /** 1..n in order of first appearance. */
  trackId: number;
  /** The observations, by frame (one per frame at most). */
  observations: TrackObservation[];
}

/** Options for {@linkcode mergeTracks}. */
export interface MergeTracksOptions {
  /**
   * Two tracks merge only when the later one starts at most this many sampled
   * frames after the earlier one ends (frames in between, not counting
   * either end). Three times the default `maxGapFrames`: a vehicle hidden for
   * a few seconds at 5 fps is still one vehicle.
   * @default {30}
   */
  mergeMaxGapFrames?: number;
  /**
   * Two tracks merge only when their voted texts (at least 4 characters each)
   * are within this edit distance.
   * @default {1}
   */
  maxMergeDistance?: number;
}

/** Options for {@linkcode trackPlates}. */
export interface TrackOptions extends MergeTracksOptions {
  /**
   * A track stays live while it has been unseen for at most this many
   * sampled frames (frames strictly between its last observation and now).
   * @default {10}
   */
  maxGapFrames?: number;
  /**
   * Least IoU of an observation with a track's predicted box that passes the
   * gate on its own.
   * @default {0.1}
   */
  minIou?: number;
  /**
   * Largest distance of an observation's centre from a track's predicted
   * centre, in sizes of the track's last box, that passes the gate one frame
   * later; it grows with the square root of the frames since last seen.
   * @default {1}
   */
  maxCentreDistance?: number;
}

/** Texts shorter than this are no evidence of identity (too easy to share). */
const MIN_TEXT_EVIDENCE_LENGTH = 4;
/** Read confidence above which a text counts as clearly read. */
const STRONG_READ_CONFIDENCE = 0.8;
/** Normalised edit distance at or above which two clear texts differ. */
const TEXT_VETO_DISTANCE = 0.5;
/** Weight of the centre distance in the cost. */
const DISTANCE_WEIGHT = 0.5;
/** Cap of the centre distance in the cost, in box sizes. */
const DISTANCE_CAP = 2;

/** Tracking state of one track while frames are visited. */
interface WorkTrack {
  observations: TrackObservation[];
  /** Summed confidence per text. */
  textWeight: Map<string, number>;
  /** Best read confidence per text. */
  textBestConfidence: Map<string, number>;
  /** Text with the most summed confidence (first to get there on ties). */
  leadText: string;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBoxes(a: Box | null, b: Box | null): number {
  if (a === null || b === null) {
    return a === b ? 0 : a === null ? -1 : 1;
  }
  for (let i = 0; i < 4; i++) {
    const c = compareNumbers(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Total order of observations by content, so input order never matters. */
function compareObservations(a: TrackObservation, b: TrackObservation): number {
  return compareNumbers(a.frameIdx, b.frameIdx) ||
    compareBoxes(a.plateBox, b.plateBox) ||
    compareBoxes(a.carBox, b.carBox) ||
    compareStrings(a.read.text, b.read.text) ||
    compareNumbers(a.read.confidence, b.read.confidence) ||
    compareNumbers(a.detScore, b.detScore);
}

function centre(box: Box): [number, number] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

function newTrack(first: TrackObservation): WorkTrack {
  const track: WorkTrack = {
    observations: [],
    textWeight: new Map(),
    textBestConfidence: new Map(),
    leadText: "",
  };
  addObservation(track, first);
  return track;
}

function addObservation(track: WorkTrack, obs: TrackObservation): void {
  track.observations.push(obs);
  const text = obs.read.text;
  if (text === "") return;
  const conf = Math.max(0, obs.read.confidence);
  const weight = (track.textWeight.get(text) ?? 0) + conf;
  track.textWeight.set(text, weight);
  const best = track.textBestConfidence.get(text) ?? 0;
  track.textBestConfidence.set(text, Math.max(best, conf));
  const leadWeight = track.leadText === ""
    ? -1
    : track.textWeight.get(track.leadText)!;
  if (weight > leadWeight) track.leadText = text;
}

/**
 * The cost of joining `obs` to `track`, or null when the gate refuses it.
 * `frameIdx` is the frame of `obs`, after the track's last observation.
 */
function pairCost(
  track: WorkTrack,
  obs: TrackObservation,
  minIou: number,
  maxCentreDistance: number,
): number | null {
  const obsList = track.observations;
  const last = obsList[obsList.length - 1];
  const prev = obsList.length >= 2 ? obsList[obsList.length - 2] : null;
  const useCar = last.carBox !== null && obs.carBox !== null;
  const lastBox = useCar ? last.carBox! : last.plateBox;
  const obsBox = useCar ? obs.carBox! : obs.plateBox;
  const dt = obs.frameIdx - last.frameIdx;

  // Constant-velocity prediction from the last two observations.
  let vx = 0;
  let vy = 0;
  const prevBox = prev === null ? null : useCar ? prev.carBox : prev.plateBox;
  if (prev !== null && prevBox !== null) {
    const [lx, ly] = centre(lastBox);
    const [px, py] = centre(prevBox);
    const span = last.frameIdx - prev.frameIdx;
    vx = (lx - px) / span;
    vy = (ly - py) / span;
  }
  const predicted: Box = [
    lastBox[0] + vx * dt,
    lastBox[1] + vy * dt,
    lastBox[2] + vx * dt,
    lastBox[3] + vy * dt,
  ];
  const overlap = iou(predicted, obsBox);
  const [ox, oy] = centre(obsBox);
  const [qx, qy] = centre(predicted);
  const size = Math.max(lastBox[2] - lastBox[0], lastBox[3] - lastBox[1], 1);
  const d = Math.hypot(ox - qx, oy - qy) / size;

  const text = obs.read.text;
  const lead = track.leadText;
  const textDistance = text === "" || lead === ""
    ? 0.5
    : normalizedEditDistance(text, lead);
  const identical = text === lead && text.length >= MIN_TEXT_EVIDENCE_LENGTH;

  const geometryOk = overlap >= minIou ||
    d <= maxCentreDistance * Math.sqrt(dt);
  if (!geometryOk && !identical) return null;
  const bothClear = text.length >= MIN_TEXT_EVIDENCE_LENGTH &&
    lead.length >= MIN_TEXT_EVIDENCE_LENGTH &&
    obs.read.confidence >= STRONG_READ_CONFIDENCE &&
    track.textBestConfidence.get(lead)! >= STRONG_READ_CONFIDENCE;
  if (bothClear && textDistance >= TEXT_VETO_DISTANCE) return null;
  return (1 - overlap) +
    DISTANCE_WEIGHT * Math.min(d, DISTANCE_CAP) + textDistance;
}

function checkNonNegativeInteger(
  value: number,
  name: string,
  action: string,
): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be an integer >= 0: current value is ${value}`,
    );
  }
}

/** Sorts observations and numbers tracks 1..n by first observation. */
function finish(groups: TrackObservation[][]): Track[] {
  const sorted = groups.map((g) => [...g].sort(compareObservations));
  sorted.sort((a, b) => compareObservations(a[0], b[0]));
  return sorted.map((observations, i) => ({ trackId: i + 1, observations }));
}

/**
 * Merges tracks that do not overlap in time, follow each other within
 * `mergeMaxGapFrames`, and whose voted texts (by `votePlate`, at least 4
 * characters) are within `maxMergeDistance` edits: one vehicle gives one
 * plate. Repeats until no pair merges, each time taking the pair with the
 * fewest edits, then the smallest gap, then the earliest tracks. Track ids
 * are renumbered 1..n by first observation.
 *
 * @example Usage
 * ```ts
 * import { mergeTracks } from "./tracker.ts";
 * import assert from "node:assert/strict";
 * const obs = (frameIdx: number, x: number) => ({
 *   frameIdx, plateBox: [x, 0, x + 100, 25] as [number, number, number, number],
 *   carBox: null, detScore: 0.9,
 *   read: { text: "PE63TVF", confidence: 0.9, charProbs: [] },
 * });
 * const merged = mergeTracks([
 *   { trackId: 1, observations: [obs(0, 0)] },
 *   { trackId: 2, observations: [obs(20, 600)] },
 * ]);
 * assert.equal(merged.length, 1);
 * ```
 * @param tracks Tracks of one clip (their ids are ignored).
 * @param options Gap and distance limits.
 * @returns New tracks, numbered 1..n by first appearance.
 * @throws {RangeError} When an option is not an integer >= 0.
 */
export function mergeTracks(
  tracks: Track[],
  options: MergeTracksOptions = {},
): Track[] {
  const { mergeMaxGapFrames = 30, maxMergeDistance = 1 } = options;
  checkNonNegativeInteger(
    mergeMaxGapFrames,
    "mergeMaxGapFrames",
    "merge tracks",
  );
  checkNonNegativeInteger(maxMergeDistance, "maxMergeDistance", "merge tracks");
  const groups = finish(
    tracks.filter((t) => t.observations.length > 0).map((t) => t.observations),
  ).map((t) => t.observations);

  for (;;) {
    const texts = groups.map((g) =>
      votePlate(g.map((o) => ({ read: o.read })))?.text ?? ""
    );
    let best: { a: number; b: number; edits: number; gap: number } | null =
      null;
    for (let a = 0; a < groups.length; a++) {
      for (let b = 0; b < groups.length; b++) {
        if (a === b) continue;
        const earlier = groups[a];
        const later = groups[b];
        const end = earlier[earlier.length - 1].frameIdx;
        const start = later[0].frameIdx;
        if (end >= start) continue;
        const gap = start - end - 1;
        if (gap > mergeMaxGapFrames) continue;
        if (
          texts[a].length < MIN_TEXT_EVIDENCE_LENGTH ||
          texts[b].length < MIN_TEXT_EVIDENCE_LENGTH
        ) continue;
        const edits = editDistance(texts[a], texts[b]);
        if (edits > maxMergeDistance) continue;
        if (
          best === null || edits < best.edits ||
          (edits === best.edits && gap < best.gap)
        ) {
          best = { a, b, edits, gap };
        }
      }
    }
    if (best === null) break;
    const joined = [...groups[best.a], ...groups[best.b]].sort(
      compareObservations,
    );
    const keep = Math.min(best.a, best.b);
    const drop = Math.max(best.a, best.b);
    groups[keep] = joined;
    groups.splice(drop, 1);
  }
  return finish(groups);
}

/**
 * Groups the plate observations of one clip into tracks, one per vehicle,
 * then merges split tracks with {@linkcode mergeTracks}. See the module
 * documentation for the cost, the gate and the thresholds.
 *
 * @example Usage
 * ```ts
 * import { trackPlates } from "./tracker.ts";
 * import assert from "node:assert/strict";
 * const obs = (frameIdx: number, x: number, text: string) => ({
 *   frameIdx, plateBox: [x, 0, x + 100, 25] as [number, number, number, number],
 *   carBox: null, detScore: 0.9, read: { text, confidence: 0.9, charProbs: [] },
 * });
 * const tracks = trackPlates([
 *   obs(0, 0, "PE63TVF"), obs(0, 500, "RK15YUH"),
 *   obs(1, 10, "PE63TVF"), obs(1, 510, "RK15YUH"),
 * ]);
 * assert.deepEqual(tracks.map((t) => t.observations.length), [2, 2]);
 * ```
 * @param observations Plate observations of one clip, in any order.
 * @param options Gate, gap and merge settings.
 * @returns Tracks numbered 1..n by first appearance, observations by frame.
 * @throws {RangeError} When a `frameIdx` is not an integer >= 0, or an option
 * is out of range.
 */
export function trackPlates(
  observations: TrackObservation[],
  options: TrackOptions = {},
): Track[] {
  const {
    maxGapFrames = 10,
    minIou = 0.1,
    maxCentreDistance = 1,
    mergeMaxGapFrames = 30,
    maxMergeDistance = 1,
  } = options;
  checkNonNegativeInteger(maxGapFrames, "maxGapFrames", "track plates");
  if (!(minIou >= 0 && minIou <= 1)) {
    throw new RangeError(
      `Cannot track plates as 'minIou' must be in 0..1: current value is ${minIou}`,
    );
  }
  if (!(maxCentreDistance >= 0 && Number.isFinite(maxCentreDistance))) {
    throw new RangeError(
      `Cannot track plates as 'maxCentreDistance' must be a finite number >= 0: current value is ${maxCentreDistance}`,
    );
  }
  for (const o of observations) {
    checkNonNegativeInteger(o.frameIdx, "frameIdx", "track plates");
  }

  const sorted = [...observations].sort(compareObservations);
  const tracks: WorkTrack[] = [];
  let start = 0;
  while (start < sorted.length) {
    const frameIdx = sorted[start].frameIdx;
    let end = start;
    while (end < sorted.length && sorted[end].frameIdx === frameIdx) end++;
    const frame = sorted.slice(start, end);
    start = end;

    const live: number[] = [];
    for (let t = 0; t < tracks.length; t++) {
      const obsList = tracks[t].observations;
      const lastFrame = obsList[obsList.length - 1].frameIdx;
      if (frameIdx - lastFrame - 1 <= maxGapFrames) live.push(t);
    }
    const pairs: Array<{ track: number; obs: number; cost: number }> = [];
    for (const t of live) {
      for (let o = 0; o < frame.length; o++) {
        const cost = pairCost(tracks[t], frame[o], minIou, maxCentreDistance);
        if (cost !== null) pairs.push({ track: t, obs: o, cost });
      }
    }
    pairs.sort((p, q) => p.cost - q.cost || p.track - q.track || p.obs - q.obs);
    const trackTaken = new Set<number>();
    const obsTaken = new Set<number>();
    for (const p of pairs) {
      if (trackTaken.has(p.track) || obsTaken.has(p.obs)) continue;
      trackTaken.add(p.track);
      obsTaken.add(p.obs);
      addObservation(tracks[p.track], frame[p.obs]);
    }
    for (let o = 0; o < frame.length; o++) {
      if (!obsTaken.has(o)) tracks.push(newTrack(frame[o]));
    }
  }
  return mergeTracks(
    tracks.map((t, i) => ({ trackId: i + 1, observations: t.observations })),
    { mergeMaxGapFrames, maxMergeDistance },
  );
}
