/**
 * Clip-level smoothing: the reads of every frame → tracks → one voted plate
 * per vehicle. Pure; the `plate_smooth` stage feeds it the clip's OCR
 * results.
 *
 * @module
 */
import { type Box, editDistance, type PlateRead } from "../shared/mod.ts";
import type { IgnoreZone } from "../config/mod.ts";
import { looksWhole } from "./edge_cut.ts";
import { inIgnoreZone } from "./ignore_zones.ts";
import { isStaticText } from "./static_text.ts";
import { applyFormatRules } from "./plate_format.ts";
import { votePlate } from "./plate_vote.ts";
import { mergeOverlappingTracks } from "./track_merge.ts";
import { mergeTracks, type TrackObservation, trackPlates } from "./tracker.ts";
import { type FrameVehicles, vehicleSpan } from "./vehicle_span.ts";

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
  /**
   * The plate box reaches the frame's left or right edge (`isAtFrameEdge`):
   * its read is dropped unless it looks whole (`looksWhole`), and a track
   * with no read away from the edge is not reported.
   * @default {false}
   */
  atEdge?: boolean;
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
  /**
   * First sampled frame where the track's vehicle is in view (fleet
   * `tracks` table): its first read, or earlier when its vehicle box is
   * followed back through `vehicles` (`vehicle_span.ts`).
   */
  firstFrame: number;
  /** Last sampled frame where the track's vehicle is in view (as `firstFrame`). */
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
  /**
   * Polygons (relative coordinates, the camera's `ignore_zones`) where no
   * plate is reported; used with `frame`.
   * @default {[]}
   */
  ignoreZones?: readonly IgnoreZone[];
  /** Frame size in pixels, for `ignoreZones`. @default {undefined} */
  frame?: { width: number; height: number };
  /**
   * Whether the clip's scene moves (`sceneMoves` of `static_text.ts`); then a
   * track of text standing still on no vehicle (`isStaticText`) is burned-in
   * text and is not reported.
   * @default {false}
   */
  sceneMoves?: boolean;
  /**
   * The vehicles of every processed frame of the clip; when given, each
   * track's span follows its vehicle beyond its first and last read
   * (`vehicle_span.ts`), so a vehicle whose plate was read only early is
   * still known to be in view at the clip's end.
   * @default {undefined: the span of the reads}
   */
  vehicles?: readonly FrameVehicles[];
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
  const {
    minConfidence = 0.6,
    minLength = 3,
    minReads = 2,
    ignoreZones = [],
    frame,
    sceneMoves = false,
    vehicles,
  } = options;
  const frames = new Set(reads.map((r) => r.frameIdx)).size;
  const byKey = new Map<string, FramePlateRead>();
  const observations: TrackObservation[] = [];
  for (const r of reads) {
    const read = applyFormatRules(r.read);
    // A plate cut by the frame's side is not reported as a shorter plate.
    if (r.atEdge && !looksWhole(read)) continue;
    if (frame && inIgnoreZone(r.plateBox, frame, ignoreZones)) continue;
    const formatted = { ...r, read };
    byKey.set(`${r.frameIdx}:${r.plateBox.join(",")}`, formatted);
    observations.push({
      frameIdx: r.frameIdx,
      plateBox: r.plateBox,
      carBox: r.carFound ? r.carBox : null,
      read,
      detScore: r.detScore,
    });
  }
  const out: SmoothedPlate[] = [];
  // Tracks side by side in time that follow one plate are joined, then
  // tracks that now follow each other.
  const tracks = mergeTracks(mergeOverlappingTracks(trackPlates(observations)));
  for (const track of tracks) {
    const obs = track.observations;
    const standsStill = isStaticText(
      obs.map((o) => ({ plateBox: o.plateBox, carFound: o.carBox !== null })),
    );
    if (sceneMoves && standsStill) continue;
    // In a clip, a plate only ever seen at the frame's side may be cut even
    // when its read fits a format (a cut Dutch XS-NB-23 reads as a German
    // SSB233). A photo has no other frame to see it in: there a read at the
    // side that fits a whole format (checked above) stands.
    const seenWhole = obs.some((o) =>
      !byKey.get(`${o.frameIdx}:${o.plateBox.join(",")}`)?.atEdge
    );
    if (!seenWhole && frames > 1) continue;
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
      ...vehicleSpan(obs, vehicles ?? []),
      best,
    });
  }
  return out;
}
