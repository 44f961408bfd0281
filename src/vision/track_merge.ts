/**
 * Merges tracks of one clip that overlap in time but follow one plate. Pure,
 * no I/O, deterministic.
 *
 * The tracker gives each observation of a frame to at most one track, so a
 * duplicate plate box (two boxes for one plate, see `plate_dedupe.ts`) or a
 * plate that jumps between the whole-frame pass and the crop pass can start
 * a second track beside the first, and both live on together: two events for
 * one car. `mergeTracks` in `tracker.ts` joins only tracks that follow each
 * other; this joins tracks whose time spans overlap when their voted texts
 * agree and, in every frame where both have an observation, the two boxes
 * are the same plate (one covers most of the other). Two plates seen apart
 * in the same frame are two vehicles and never merge.
 *
 * @module
 */

import { editDistance } from "../shared/mod.ts";
import { containment } from "./plate_dedupe.ts";
import { votePlate } from "./plate_vote.ts";
import type { Track, TrackObservation } from "./tracker.ts";

/** Options for {@linkcode mergeOverlappingTracks}. */
export interface MergeOverlappingTracksOptions {
  /**
   * Voted texts (at least `minTextLength` characters each) must be within
   * this many edits.
   * @default {1}
   */
  maxEdits?: number;
  /**
   * Shortest voted text that counts as evidence of identity.
   * @default {4}
   */
  minTextLength?: number;
  /**
   * In a frame where both tracks have an observation, the two plate boxes
   * must overlap by more than this fraction of the smaller one.
   * @default {0.5}
   */
  minSharedFrameContainment?: number;
}

function score(o: TrackObservation): number {
  return o.detScore * Math.max(0, o.read.confidence);
}

function firstKey(t: TrackObservation[]): [number, number, number] {
  return [t[0].frameIdx, t[0].plateBox[0], t[0].plateBox[1]];
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** Joins two observation lists, one observation per frame (the better one). */
function join(
  a: TrackObservation[],
  b: TrackObservation[],
): TrackObservation[] {
  const byFrame = new Map<number, TrackObservation>();
  for (const o of [...a, ...b]) {
    const had = byFrame.get(o.frameIdx);
    if (had === undefined || score(o) > score(had)) byFrame.set(o.frameIdx, o);
  }
  return [...byFrame.values()].sort((x, y) => x.frameIdx - y.frameIdx);
}

/** Whether every frame both lists share shows one plate. */
function sharedFramesAgree(
  a: TrackObservation[],
  b: TrackObservation[],
  minContainment: number,
): boolean {
  const byFrame = new Map<number, TrackObservation[]>();
  for (const o of a) {
    byFrame.set(o.frameIdx, [...(byFrame.get(o.frameIdx) ?? []), o]);
  }
  for (const o of b) {
    for (const other of byFrame.get(o.frameIdx) ?? []) {
      if (containment(o.plateBox, other.plateBox) <= minContainment) {
        return false;
      }
    }
  }
  return true;
}

/**
 * Merges tracks whose time spans overlap, whose voted texts agree within
 * `maxEdits`, and whose shared frames show one plate (see the module
 * documentation). Repeats until no pair merges, each time taking the pair
 * with the fewest edits, then the earliest tracks. A merged track keeps one
 * observation per frame: the one with the larger detector score times read
 * confidence. Tracks are renumbered 1..n by first observation.
 *
 * @example Two tracks of one plate, side by side in time
 * ```ts
 * import { mergeOverlappingTracks } from "./track_merge.ts";
 * import assert from "node:assert/strict";
 * const obs = (frameIdx: number, x: number) => ({
 *   frameIdx, plateBox: [x, 0, x + 100, 25] as [number, number, number, number],
 *   carBox: null, detScore: 0.5,
 *   read: { text: "LS15EBC", confidence: 0.9, charProbs: [] },
 * });
 * const merged = mergeOverlappingTracks([
 *   { trackId: 1, observations: [obs(0, 0), obs(1, 10), obs(2, 20)] },
 *   { trackId: 2, observations: [obs(1, 15), obs(3, 30)] },
 * ]);
 * assert.deepEqual(merged.map((t) => t.observations.length), [4]);
 * ```
 * @param tracks Tracks of one clip.
 * @param options Text and overlap thresholds.
 * @returns New tracks, numbered 1..n by first observation.
 * @throws {RangeError} When `maxEdits` or `minTextLength` is not an integer
 * >= 0, or `minSharedFrameContainment` is not in 0..1.
 */
export function mergeOverlappingTracks(
  tracks: readonly Track[],
  options: MergeOverlappingTracksOptions = {},
): Track[] {
  const {
    maxEdits = 1,
    minTextLength = 4,
    minSharedFrameContainment = 0.5,
  } = options;
  for (
    const [name, v] of [["maxEdits", maxEdits], [
      "minTextLength",
      minTextLength,
    ]] as const
  ) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(
        `Cannot merge overlapping tracks as '${name}' must be an integer >= 0: current value is ${v}`,
      );
    }
  }
  if (!(minSharedFrameContainment >= 0 && minSharedFrameContainment <= 1)) {
    throw new RangeError(
      `Cannot merge overlapping tracks as 'minSharedFrameContainment' must be in 0..1: current value is ${minSharedFrameContainment}`,
    );
  }
  const groups = tracks.filter((t) => t.observations.length > 0).map((t) =>
    [...t.observations].sort((x, y) => x.frameIdx - y.frameIdx)
  );
  groups.sort((a, b) => compareKeys(firstKey(a), firstKey(b)));
  for (;;) {
    const texts = groups.map((g) =>
      votePlate(g.map((o) => ({ read: o.read, weight: o.detScore })))?.text ??
        ""
    );
    let best: { a: number; b: number; edits: number } | null = null;
    for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        const ga = groups[a];
        const gb = groups[b];
        const overlap = ga[0].frameIdx <= gb[gb.length - 1].frameIdx &&
          gb[0].frameIdx <= ga[ga.length - 1].frameIdx;
        if (!overlap) continue;
        if (
          texts[a].length < minTextLength || texts[b].length < minTextLength
        ) {
          continue;
        }
        const edits = editDistance(texts[a], texts[b]);
        if (edits > maxEdits) continue;
        if (!sharedFramesAgree(ga, gb, minSharedFrameContainment)) continue;
        if (best === null || edits < best.edits) best = { a, b, edits };
      }
    }
    if (best === null) break;
    groups[best.a] = join(groups[best.a], groups[best.b]);
    groups.splice(best.b, 1);
  }
  groups.sort((a, b) => compareKeys(firstKey(a), firstKey(b)));
  return groups.map((observations, i) => ({ trackId: i + 1, observations }));
}
