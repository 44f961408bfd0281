/**
 * Clip-level smoothing: the reads of every frame → tracks → one voted plate
 * per vehicle. Pure; the `plate_smooth` stage feeds it the clip's OCR
 * results.
 *
 * @module
 */
import { type Box, editDistance, type PlateRead } from "../shared/mod.ts";
import { applyFormatRules } from "./plate_format.ts";
import { votePlate } from "./plate_vote.ts";
import { type TrackObservation, trackPlates } from "./tracker.ts";

/** One plate read in one frame, as the OCR stage stores it. */
export interface FramePlateRead {
  /** Sampled frame index. */
  frameIdx: number;
  /** Plate box in frame pixels. */
  plateBox: Box;
  /** Vehicle box in frame pixels. */
  carBox: Box;
  /** Whether the vehicle box is a detected vehicle. */
  carFound: boolean;
  /** Plate detector score. */
  detScore: number;
  /** The OCR reading. */
  read: PlateRead;
  /** payload_ref of the saved crop, if any. */
  crop?: string;
  /** Reference of the saved vehicle crop (PPM, at most 320 px), if any. */
  vehicleCrop?: string;
}

/** The voted plate of one vehicle. */
export interface SmoothedPlate {
  /** Track id, 1-based in order of first appearance. */
  trackId: number;
  /** Voted text. */
  text: string;
  /** Confidence of the voted text, 0..1. */
  confidence: number;
  /** Reads agreeing exactly with `text`. */
  support: number;
  /** Reads in the track. */
  reads: number;
  /** First and last sampled frame of the track (fleet `tracks` table). */
  firstFrame: number;
  /** Last sampled frame of the track. */
  lastFrame: number;
  /** The read that best represents the text. */
  best: FramePlateRead;
}

/** Options for {@linkcode smoothClip}. */
export interface SmoothClipOptions {
  /**
   * A plate is reported only when the reads agreeing with it (within one
   * character) have at least this mean confidence. Reads of unreadable (far,
   * blurred) plates have character probabilities spread over several
   * candidates, so their mean stays low.
   * @default {0.6}
   */
  minConfidence?: number;
  /**
   * Fewest characters of a reported plate: shorter strings are fragments of
   * text, not plates (the shortest real plates, vanity ones, have 2-3).
   * @default {3}
   */
  minLength?: number;
  /**
   * In clips with more than one frame, at least this many reads must agree
   * with the plate (within one character): a vehicle in view for 0.4 s at
   * 5 fps gives 2, while a false detection rarely repeats with the same text.
   * @default {2}
   */
  minReads?: number;
}

/**
 * Tracks the reads of a clip and votes one plate per track.
 *
 * @param reads Every plate read of the clip (any order).
 * @param options Reporting thresholds.
 * @returns The plates to report, by track id.
 */
export function smoothClip(
  reads: readonly FramePlateRead[],
  options: SmoothClipOptions = {},
): SmoothedPlate[] {
  const { minConfidence = 0.6, minLength = 3, minReads = 2 } = options;
  const frames = new Set(reads.map((r) => r.frameIdx)).size;
  const byKey = new Map<string, FramePlateRead>();
  const observations: TrackObservation[] = reads.map((r) => {
    const read = applyFormatRules(r.read);
    const formatted = { ...r, read };
    byKey.set(`${r.frameIdx}:${r.plateBox.join(",")}`, formatted);
    return {
      frameIdx: r.frameIdx,
      plateBox: r.plateBox,
      carBox: r.carFound ? r.carBox : null,
      read,
      detScore: r.detScore,
    };
  });
  const out: SmoothedPlate[] = [];
  for (const track of trackPlates(observations)) {
    const obs = track.observations;
    const vote = votePlate(
      obs.map((o) => ({ read: o.read, weight: o.detScore })),
      { minReads: 1 },
    );
    if (!vote) continue;
    if (vote.text.length < minLength) continue;
    // Judge the plate by the reads that agree with it (within one edit):
    // junk reads on the same track (motion blur, an occluder, the plate
    // turning away) must not dilute a plate that was read well several times.
    const agreeing = obs.filter((o) =>
      o.read.text.length > 0 && editDistance(o.read.text, vote.text) <= 1
    );
    if (agreeing.length === 0) continue;
    const agreeingConfidence = agreeing.reduce((n, o) =>
      n + o.read.confidence, 0) /
      agreeing.length;
    if (agreeingConfidence < minConfidence) continue;
    if (frames > 1 && agreeing.length < minReads) continue;
    const bestObs = obs[vote.bestIndex];
    const best = byKey.get(
      `${bestObs.frameIdx}:${bestObs.plateBox.join(",")}`,
    )!;
    out.push({
      trackId: track.trackId,
      text: vote.text,
      confidence: vote.confidence,
      support: vote.support,
      reads: obs.length,
      firstFrame: Math.min(...obs.map((o) => o.frameIdx)),
      lastFrame: Math.max(...obs.map((o) => o.frameIdx)),
      best,
    });
  }
  return out;
}
