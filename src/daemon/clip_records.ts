/**
 * Builds the fleet's `video_metadata` and `tracks` rows of a finished clip
 * (issue 13) from its graph rows and its GPS record. Pure.
 *
 * @module
 */
import { basename } from "node:path";
import type { TrackSummary, VideoRow } from "../graph/mod.ts";
import type { ClipRecord, TrackRecord } from "../shared/mod.ts";
import { type ClipGpsRecord, timeSourceOf } from "./clip_gps.ts";

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * The clip's row and its tracks' rows.
 *
 * @example A clip without GPS
 * ```ts
 * import assert from "node:assert/strict";
 * const { clip, tracks } = clipRecords(
 *   { video_id: "v", path: "/sd/20260718_070331_NF.mp4", size: 1, sha256: null, duration_s: 60, fps: 30, width: 1920, height: 1080, start_time: "2026-07-18T07:03:31.000Z", sampling_fps: 5, frames_total: 300, status: "done", error: null, created_at: 0, updated_at: 0 } as never,
 *   { gps: null, status: "done", error: null, tracks: [{ trackId: 1, frameIdx: 12, meta: { text: "AB12CDE", reads: 7, firstFrame: 10, lastFrame: 20 } }] },
 * );
 * assert.equal(clip.fileName, "20260718_070331_NF.mp4");
 * assert.equal(tracks[0]?.firstSeen, "2026-07-18T07:03:33.000Z");
 * assert.equal(tracks[0]?.frames, 11);
 * ```
 * @param video The clip's graph row.
 * @param input Its GPS record, outcome and track summaries.
 * @returns The rows.
 */
export function clipRecords(
  video: VideoRow,
  input: {
    gps: ClipGpsRecord | null;
    status: string;
    error: string | null;
    tracks: readonly TrackSummary[];
  },
): { clip: ClipRecord; tracks: TrackRecord[] } {
  const { gps } = input;
  const track = gps?.track ?? null;
  const fixes = track?.fixes ?? [];
  const utcStart = track?.utcStartMs ?? null;
  const startMs = utcStart ??
    (video.start_time ? Date.parse(video.start_time) : NaN);
  const timeSource = utcStart !== null
    ? "gps"
    : gps
    ? timeSourceOf(gps.startSource)
    : null;
  const first = fixes[0];
  const last = fixes[fixes.length - 1];
  const clip: ClipRecord = {
    videoId: video.video_id,
    fileName: basename(video.path),
    startTs: Number.isFinite(startMs) ? new Date(startMs).toISOString() : null,
    durationS: video.duration_s,
    width: video.width,
    height: video.height,
    fps: video.fps,
    timeSource,
    gpsSource: track?.source ?? null,
    gpsFixes: fixes.length,
    gpsFirst: first ? { lat: first.lat, lon: first.lon } : null,
    gpsLast: last ? { lat: last.lat, lon: last.lon } : null,
    status: input.status,
    error: input.error,
  };
  const fps = video.sampling_fps ?? gps?.samplingFps ?? null;
  const at = (frame: number | null) =>
    frame !== null && fps && Number.isFinite(startMs)
      ? new Date(startMs + Math.round(frame / fps * 1000)).toISOString()
      : null;
  const tracks = input.tracks.map((t): TrackRecord => {
    const firstFrame = num(t.meta.firstFrame) ?? t.frameIdx;
    const lastFrame = num(t.meta.lastFrame) ?? t.frameIdx;
    return {
      videoId: video.video_id,
      trackId: t.trackId,
      firstSeen: at(firstFrame),
      lastSeen: at(lastFrame),
      firstFrame,
      lastFrame,
      frames: firstFrame !== null && lastFrame !== null
        ? lastFrame - firstFrame + 1
        : null,
      reads: num(t.meta.reads),
      finalPlate: typeof t.meta.text === "string" ? t.meta.text : null,
    };
  });
  return { clip, tracks };
}
