/**
 * The daemon's side of "one event per vehicle per drive": when a clip's
 * summary tasks are settled, its track events are planned against the
 * tracks held at the end of the segment before it (see
 * `graph/segment_chain.ts`), reported to the outbox, and the rest held in
 * `pipeline.db`.
 *
 * Exactly once across power cuts: {@linkcode planClipEvents} only reads;
 * the caller reports (`sink.add`, idempotent by event key) and then commits
 * {@linkcode applyClipPlan} in the same transaction that marks the clip
 * done. A cut between the two repeats the same plan on the next start, and
 * the outbox drops the repeated keys.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { basename } from "node:path";
import {
  clipResults,
  deleteHeldTracks,
  expiredHeldTracks,
  type HeldTrack,
  heldTracksBefore,
  listHeldTracks,
  planSegmentEvents,
  putHeldTracks,
  type SegmentPlan,
  type SegmentTrack,
  unfinishedPredecessor,
  type VideoRow,
} from "../graph/mod.ts";
import type { SegmentsConfig } from "../config/mod.ts";
import type { FinalEvent } from "../shared/mod.ts";

/** Summary-task fields the plan reads (set by the plate_smooth stage). */
interface SummaryMeta {
  support?: number;
  firstFrame?: number;
  lastFrame?: number;
}

/**
 * A clip's events with its file name, time in clip and camera, and each
 * track's span, from its summary results.
 *
 * @param db The database.
 * @param clip The clip's row.
 * @returns Its tracks.
 */
export function clipTracks(db: DatabaseSync, clip: VideoRow): SegmentTrack[] {
  const fps = clip.sampling_fps || 5;
  const offset = clip.stream_start_s ?? 0;
  const name = clip.source_name ?? basename(clip.path);
  const at = (frame: number) =>
    Math.round((offset + frame / fps) * 1000) / 1000;
  const out: SegmentTrack[] = [];
  for (
    const { task, result } of clipResults(db, {
      videoId: clip.video_id,
      category: "summary",
    })
  ) {
    const event = (result as { event?: FinalEvent } | null)?.event;
    if (!event) continue;
    const meta = JSON.parse(task.meta ?? "{}") as SummaryMeta;
    const frame = event.frameIdx;
    // The summary stage counts time from the first sampled frame; a stream
    // starting later than the clip (pts offset) moves the event with it.
    const ts = offset > 0
      ? new Date(Date.parse(event.ts) + offset * 1000).toISOString()
      : event.ts;
    out.push({
      event: {
        ...event,
        ts,
        clip: name,
        clipTimeS: at(frame),
        ...(clip.camera_id != null ? { camera: clip.camera_id } : {}),
      },
      firstS: at(meta.firstFrame ?? frame),
      lastS: at(meta.lastFrame ?? frame),
      support: meta.support ?? 1,
    });
  }
  return out;
}

/**
 * Plans a finished clip's reports (reads only).
 *
 * @param db The database.
 * @param options The clip, the `segments` settings, the clock (epoch ms), and what completes each event (GPS) before it is reported or held.
 * @returns What to report, hold and settle; `plates` is the clip's track count.
 */
export function planClipEvents(
  db: DatabaseSync,
  options: {
    clip: VideoRow;
    segments: SegmentsConfig;
    now: number;
    enrich?: (event: FinalEvent) => FinalEvent;
  },
): SegmentPlan & { plates: number } {
  const { clip, segments, now, enrich } = options;
  const tracks = clipTracks(db, clip).map((t) =>
    enrich ? { ...t, event: enrich(t.event) } : t
  );
  const startMs = clip.start_time ? Date.parse(clip.start_time) : NaN;
  const fps = clip.sampling_fps || 5;
  const frames = clip.frames_total ?? 0;
  const chained = clip.chain_key != null && Number.isFinite(startMs);
  const held = chained
    ? heldTracksBefore(db, {
      chainKey: clip.chain_key!,
      startMs,
      gapS: segments.gap_s,
      videoId: clip.video_id,
    })
    : [];
  const plan = planSegmentEvents({
    videoId: clip.video_id,
    chainKey: clip.chain_key ?? "",
    startMs: chained ? startMs : 0,
    endS: (clip.stream_start_s ?? 0) + Math.max(0, frames - 1) / fps,
    durationS: clip.duration_s ?? 0,
  }, {
    tracks,
    held,
  }, {
    rules: { gapS: segments.gap_s, edgeS: segments.edge_s },
    now,
  });
  // A clip with no start time cannot be continued: nothing is held for it.
  if (!chained) {
    return {
      report: [...plan.report, ...plan.hold.map((h) => h.event)],
      hold: [],
      settle: plan.settle,
      plates: tracks.length,
    };
  }
  return { ...plan, plates: tracks.length };
}

/**
 * Commits a plan's holds (call inside the transaction that marks the clip
 * done, after its reports are in the outbox).
 *
 * @param db The database.
 * @param plan The plan.
 */
export function applyClipPlan(db: DatabaseSync, plan: SegmentPlan): void {
  deleteHeldTracks(db, plan.settle);
  putHeldTracks(db, plan.hold);
}

/**
 * Whether a finished clip must wait before its events are planned: the
 * segment before it (same camera, ending where it starts) is still being
 * processed, and its held tracks are not known yet.
 *
 * @param db The database.
 * @param options The clip and the `segments` settings.
 * @returns True to wait.
 */
export function waitsForPreviousSegment(
  db: DatabaseSync,
  options: { clip: VideoRow; segments: SegmentsConfig },
): boolean {
  return unfinishedPredecessor(db, {
    clip: options.clip,
    gapS: options.segments.gap_s,
  }) !== null;
}

/**
 * Reports held tracks and deletes them: those past `hold_s` with no next
 * segment being processed, or (at the end of `process`) those held at the
 * end of the given clips.
 *
 * @param db The database.
 * @param options Where events go, and which: expired by the clock, or of some clips.
 * @returns The events reported.
 */
export function releaseHeldTracks(
  db: DatabaseSync,
  options: {
    sink: { add(event: FinalEvent): boolean };
    segments: SegmentsConfig;
    now: number;
    videoIds?: readonly string[];
  },
): FinalEvent[] {
  let held: HeldTrack[];
  if (options.videoIds) {
    const ids = new Set(options.videoIds);
    held = listHeldTracks(db).filter((h) => ids.has(h.videoId));
  } else {
    held = expiredHeldTracks(db, {
      now: options.now,
      holdS: options.segments.hold_s,
      gapS: options.segments.gap_s,
    });
  }
  for (const h of held) options.sink.add(h.event);
  deleteHeldTracks(db, held.map((h) => h.eventKey));
  return held.map((h) => h.event);
}
