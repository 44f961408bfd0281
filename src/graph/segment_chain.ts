/**
 * One event per vehicle per drive: consecutive segments of one camera
 * continue each other's tracks. Pure; `held_tracks.ts` keeps the state and
 * the daemon calls {@linkcode planSegmentEvents} once per finished clip.
 *
 * Dashcams record a drive as 1-3 minute segments; a car in view across a
 * cut is one track ending in the last seconds of segment n and one starting
 * in the first seconds of segment n+1. Reporting rule (exactly once, nothing
 * already reported is ever rewritten):
 *
 * - A track that ends within `edge_s` of its segment's end is **held**
 *   (kept in `pipeline.db`), not reported.
 * - When the next segment of the same camera (same chain key; its start
 *   within `gap_s` of the held segment's end) finishes, each held track is
 *   matched with a track of it starting within `edge_s` of its start whose
 *   plate text agrees (within one character). A match is one event, under the
 *   held track's event key (the chain head's `videoId:trackId`), with the
 *   best-supported reading; it is held again if it also reaches the new
 *   segment's end. Held tracks the next segment does not continue are
 *   reported as they are.
 * - A held track whose next segment does not come within `hold_s` is
 *   reported alone; `process` reports what is held at its end.
 *
 * The event key of a chain never changes, so a report repeated after a
 * power cut (outbox written, `pipeline.db` not yet) is dropped by the
 * outbox's unique key: exactly once.
 *
 * @module
 */
import { editDistance, type FinalEvent } from "../shared/mod.ts";

/** A finished segment, as the plan needs it. */
export interface SegmentClip {
  /** The clip's id. */
  videoId: string;
  /** Camera id and channel (`van12/F`); clips continue only the same key. */
  chainKey: string;
  /** Start, epoch ms. */
  startMs: number;
  /** Seconds from the start to the last decoded frame (the segment's usable end). */
  endS: number;
  /** Duration the container states, seconds (the next segment starts after it). */
  durationS: number;
}

/** One track's event, with the span it was seen in. */
export interface SegmentTrack {
  /** The event the summary stage made for it. */
  event: FinalEvent;
  /** Seconds into the clip of its first read. */
  firstS: number;
  /** Seconds into the clip of its last read. */
  lastS: number;
  /** Reads agreeing with its text (the vote's support). */
  support: number;
}

/** A track held at a segment's end, waiting for the next segment. */
export interface HeldTrack {
  /** The key its event is reported under (the chain head's). */
  eventKey: string;
  /** Camera id and channel. */
  chainKey: string;
  /** The segment whose end it waits at. */
  videoId: string;
  /** That segment's end (start + stated duration), epoch ms. */
  endMs: number;
  /** The best-supported reading so far. */
  text: string;
  /** Its support. */
  support: number;
  /** The event to report (key = `eventKey`). */
  event: FinalEvent;
  /** When it was last held (at the end of segment `videoId`), epoch ms; the hold timeout counts from here. */
  heldAt: number;
  /** Segments the track spans so far. */
  segments: number;
}

/** Settings of the plan (the `segments` config section). */
export interface SegmentRules {
  /** Seconds a segment's start may differ from the previous one's end. */
  gapS: number;
  /** Seconds from a segment's end (start) a track must reach to continue. */
  edgeS: number;
}

/** What to do once a segment has finished. */
export interface SegmentPlan {
  /** Events to report now (outbox), in order. */
  report: FinalEvent[];
  /** Tracks to hold (new rows; a continued chain keeps its key). */
  hold: HeldTrack[];
  /** Event keys of held rows that are settled (reported or held again). */
  settle: string[];
}

/**
 * Whether `next` starts where a segment ending at `endMs` ends, within
 * `gapS` seconds either way.
 *
 * @param endMs The earlier segment's end (start + duration), epoch ms.
 * @param next The later segment's start, epoch ms.
 * @param gapS Tolerance, seconds.
 * @returns True when contiguous.
 */
export function isContiguous(
  endMs: number,
  next: number,
  gapS: number,
): boolean {
  return Math.abs(next - endMs) <= gapS * 1000;
}

function better(
  a: { support: number; event: FinalEvent },
  b: { support: number; event: FinalEvent },
): boolean {
  return a.support > b.support ||
    (a.support === b.support &&
      a.event.plateConfidence > b.event.plateConfidence);
}

/**
 * Plans a finished segment's reports: continues held tracks of the segment
 * before it, holds tracks reaching its end, reports the rest.
 *
 * @example
 * ```ts
 * import { planSegmentEvents } from "./segment_chain.ts";
 * import assert from "node:assert/strict";
 * const event = {
 *   eventKey: "b:1", videoId: "b", trackId: 1, frameIdx: 0,
 *   ts: "2026-03-15T08:15:08.000Z", finalPlate: "RK15YUH",
 *   plateConfidence: 0.9, carBbox: [0, 0, 9, 9], plateBbox: [1, 1, 2, 2],
 * } as const;
 * const plan = planSegmentEvents(
 *   { videoId: "b", chainKey: "cam/F", startMs: 6000, endS: 5.8, durationS: 6 },
 *   {
 *     tracks: [{ event: { ...event, carBbox: [0, 0, 9, 9], plateBbox: [1, 1, 2, 2] }, firstS: 0, lastS: 2, support: 5 }],
 *     held: [{
 *       eventKey: "a:3", chainKey: "cam/F", videoId: "a", endMs: 6000, text: "RK15YUH",
 *       support: 9, heldAt: 0, segments: 1,
 *       event: { ...event, eventKey: "a:3", videoId: "a", trackId: 3, carBbox: [0, 0, 9, 9], plateBbox: [1, 1, 2, 2] },
 *     }],
 *   },
 *   { rules: { gapS: 2, edgeS: 3 }, now: 1 },
 * );
 * assert.deepEqual(plan.report.map((e) => e.eventKey), ["a:3"]);
 * assert.deepEqual(plan.settle, ["a:3"]);
 * ```
 * @param clip The segment that finished.
 * @param input Its tracks' events, and the tracks held at the end of the segment before it (same chain key, contiguous).
 * @param options Rules and clock (epoch ms, for `heldAt` of new holds).
 * @returns Reports, new holds and settled holds.
 */
export function planSegmentEvents(
  clip: SegmentClip,
  input: { tracks: readonly SegmentTrack[]; held: readonly HeldTrack[] },
  options: { rules: SegmentRules; now: number },
): SegmentPlan {
  const { edgeS } = options.rules;
  const reachesEnd = (t: SegmentTrack) => t.lastS >= clip.endS - edgeS;
  const endMs = clip.startMs + clip.durationS * 1000;
  const report: FinalEvent[] = [];
  const hold: HeldTrack[] = [];
  const settle: string[] = [];
  // Pairs (held, track) by agreement: exact text first, then earliest start.
  const heads = input.tracks
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t.firstS <= edgeS);
  const pairs: Array<{ h: number; i: number; d: number; s: number }> = [];
  input.held.forEach((h, hi) => {
    for (const { t, i } of heads) {
      const d = editDistance(h.text, t.event.finalPlate);
      if (d <= 1) pairs.push({ h: hi, i, d, s: t.firstS });
    }
  });
  pairs.sort((a, b) => a.d - b.d || a.s - b.s || a.h - b.h || a.i - b.i);
  const heldTaken = new Map<number, number>(); // held index → track index
  const trackTaken = new Set<number>();
  for (const p of pairs) {
    if (heldTaken.has(p.h) || trackTaken.has(p.i)) continue;
    heldTaken.set(p.h, p.i);
    trackTaken.add(p.i);
  }
  input.held.forEach((h, hi) => {
    settle.push(h.eventKey);
    const ti = heldTaken.get(hi);
    if (ti === undefined) {
      report.push(h.event); // the next segment came and does not continue it
      return;
    }
    const t = input.tracks[ti];
    const best = better(t, h)
      ? { support: t.support, event: t.event, text: t.event.finalPlate }
      : { support: h.support, event: h.event, text: h.text };
    const event: FinalEvent = { ...best.event, eventKey: h.eventKey };
    if (reachesEnd(t)) {
      hold.push({
        eventKey: h.eventKey,
        chainKey: clip.chainKey,
        videoId: clip.videoId,
        endMs,
        text: best.text,
        support: best.support,
        event,
        heldAt: options.now, // waits anew for the segment after this one
        segments: h.segments + 1,
      });
    } else {
      report.push(event);
    }
  });
  input.tracks.forEach((t, i) => {
    if (trackTaken.has(i)) return;
    if (reachesEnd(t)) {
      hold.push({
        eventKey: t.event.eventKey,
        chainKey: clip.chainKey,
        videoId: clip.videoId,
        endMs,
        text: t.event.finalPlate,
        support: t.support,
        event: t.event,
        heldAt: options.now,
        segments: 1,
      });
    } else {
      report.push(t.event);
    }
  });
  return { report, hold, settle };
}
