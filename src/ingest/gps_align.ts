/**
 * Places a source's GPS fixes on the clip's time line and drops the ones
 * that cannot be trusted. Pure.
 *
 * Where a fix lies in the clip (seconds from the start, `t`):
 * 1. the source's own clip time (GoPro `SampleTime`);
 * 2. a camera-clock time (Novatek, BlackVue `[ms]`, R50 log) minus the
 *    clip's start, when that start came from the same camera (container
 *    `creation_time` or the file name);
 * 3. a UTC time minus a container start time (cameras that keep UTC);
 * 4. otherwise, or when step 3 puts no fix inside the clip (a camera clock
 *    that is off: what GPS time corrects), the fix's time minus the first
 *    fix's time: the track is taken to start with the clip. This is done
 *    only when the track is no longer than the clip, so a daily log is
 *    never slid onto the wrong clip.
 *
 * Fixes more than {@linkcode SPAN_SLACK_S} outside the clip are dropped; a
 * fix that implies an impossible speed against its neighbours (a bad fix,
 * {@linkcode MAX_SPEED_KMH}) is dropped. When fixes carry true UTC times,
 * the clip's true start is the median of `utc - t` (robust against the
 * first GPMF payload's stale GPSU).
 *
 * @module
 */
import { type GpsFix, type GpsTrack, haversineM } from "../shared/mod.ts";
import type { RawGpsFix, RawGpsTrack } from "./gps_fix.ts";

export type { GpsFix, GpsTrack };

/** Where the clip's start time came from (see `clipStartTime`). */
export type StartSource = "container" | "name" | "mtime";

/** The clip, as alignment needs it. */
export interface ClipTiming {
  /** The clip's start as recorded (ms since the epoch). */
  startMs: number;
  /** Where that start came from. */
  startSource: StartSource;
  /** Duration, seconds (0 when unknown). */
  durationS: number;
}

/** Seconds a fix may lie before the start or after the end of the clip. */
export const SPAN_SLACK_S = 2;

/**
 * Fastest plausible ground speed between two fixes, km/h. 300 km/h is above
 * any road vehicle's speed; with {@linkcode JUMP_SLACK_M} of allowed noise
 * it separates a bad fix (typically kilometres off) from fast driving.
 */
export const MAX_SPEED_KMH = 300;

/** Position noise allowed on top of {@linkcode MAX_SPEED_KMH}, metres (a consumer GPS errs by 5-30 m). */
export const JUMP_SLACK_M = 50;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function plausible(a: GpsFix, b: GpsFix): boolean {
  const dt = Math.abs(b.t - a.t);
  return haversineM(a, b) <= (MAX_SPEED_KMH / 3.6) * dt + JUMP_SLACK_M;
}

/**
 * Drops fixes that imply an impossible speed against their neighbours: a
 * fix is bad when it is implausible against both the previous and the next
 * fix while those two agree with each other (at the ends: against its one
 * neighbour while the next pair agrees).
 *
 * @example A fix 5 km off between two close ones
 * ```ts
 * import assert from "node:assert/strict";
 * const { kept, dropped } = dropJumps([
 *   { t: 0, lat: 50, lon: 30 }, { t: 1, lat: 50.05, lon: 30 }, { t: 2, lat: 50.0001, lon: 30 },
 * ]);
 * assert.equal(kept.length, 2);
 * assert.equal(dropped[0]?.t, 1);
 * ```
 * @param fixes Fixes by increasing `t`.
 * @returns The fixes kept and the ones dropped.
 */
export function dropJumps(
  fixes: readonly GpsFix[],
): { kept: GpsFix[]; dropped: GpsFix[] } {
  const bad = new Set<number>();
  const n = fixes.length;
  for (let i = 0; i < n; i++) {
    const f = fixes[i]!;
    const prev = fixes[i - 1];
    const next = fixes[i + 1];
    if (prev && next) {
      if (!plausible(prev, f) && !plausible(f, next) && plausible(prev, next)) {
        bad.add(i);
      }
    } else if (next && !plausible(f, next)) {
      const after = fixes[i + 2];
      if (after && plausible(next, after)) bad.add(i);
    } else if (prev && !plausible(prev, f)) {
      const before = fixes[i - 2];
      if (before && plausible(before, prev)) bad.add(i);
    }
  }
  return {
    kept: fixes.filter((_, i) => !bad.has(i)),
    dropped: fixes.filter((_, i) => bad.has(i)),
  };
}

function toFix(raw: RawGpsFix, t: number): GpsFix {
  const fix: GpsFix = { t, lat: raw.lat, lon: raw.lon };
  if (raw.speedKmh !== undefined) fix.speedKmh = raw.speedKmh;
  if (raw.headingDeg !== undefined) fix.headingDeg = raw.headingDeg;
  return fix;
}

function inSpan(t: number, durationS: number): boolean {
  const end = durationS > 0 ? durationS : Infinity;
  return t >= -SPAN_SLACK_S && t <= end + SPAN_SLACK_S;
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "?";
}

/**
 * Places a raw track on the clip's time line (see the module doc).
 *
 * @example A 1 Hz camera-clock track of a clip named by the same clock
 * ```ts
 * import assert from "node:assert/strict";
 * const start = Date.UTC(2021, 2, 18, 15, 39, 33);
 * const track = alignTrack(
 *   { source: "exiftool", skipped: { count: 0, reason: null }, fixes: [
 *     { cameraMs: start + 1000, lat: 50, lon: 30 }, { cameraMs: start + 2000, lat: 50.0001, lon: 30 }] },
 *   { startMs: start, startSource: "name", durationS: 10 },
 * );
 * assert.deepEqual(track.fixes.map((f) => f.t), [1, 2]);
 * assert.equal(track.utcStartMs, null);
 * ```
 * @param raw The source's fixes.
 * @param clip The clip's recorded start, its source and duration.
 * @returns The aligned track (possibly with no fixes; `notes` say why).
 */
export function alignTrack(raw: RawGpsTrack, clip: ClipTiming): GpsTrack {
  const notes: string[] = [];
  const { startMs, startSource, durationS } = clip;
  if (raw.skipped.count > 0) {
    notes.push(
      `${raw.source}: ${raw.skipped.count} record(s) without a fix left out (${raw.skipped.reason})`,
    );
  } else if (raw.skipped.reason !== null) {
    notes.push(`${raw.source}: ${raw.skipped.reason}`);
  }
  const all = raw.fixes;
  if (all.length === 0) {
    notes.push(`${raw.source}: no GPS fix`);
    return {
      source: raw.source,
      fixes: [],
      utcStartMs: null,
      alignment: "none",
      notes,
    };
  }
  const byClock = (get: (f: RawGpsFix) => number | undefined) => {
    const times = all.map(get);
    return times.every((v) => v !== undefined && Number.isFinite(v))
      ? times as number[]
      : null;
  };
  const fitsClip = (times: number[]) =>
    durationS <= 0 ||
    (Math.max(...times) - Math.min(...times)) / 1000 <=
      durationS + SPAN_SLACK_S;
  const relative = (times: number[]) => {
    const first = Math.min(...times);
    return times.map((v) => (v - first) / 1000);
  };
  let ts: number[] | null = null;
  let alignment = "none";
  const clipTimes = byClock((f) => f.clipS);
  const camera = byClock((f) => f.cameraMs);
  const utc = byClock((f) => f.utcMs);
  if (clipTimes) {
    ts = clipTimes.map((v) => v);
    alignment = "clip_time";
  } else if (camera) {
    if (startSource !== "mtime") {
      ts = camera.map((v) => (v - startMs) / 1000);
      alignment = "camera_clock";
    } else if (fitsClip(camera)) {
      ts = relative(camera);
      alignment = "track_start";
    }
  } else if (utc) {
    if (startSource === "container") {
      const direct = utc.map((v) => (v - startMs) / 1000);
      if (direct.some((t) => inSpan(t, durationS))) {
        ts = direct;
        alignment = "utc";
      }
    }
    if (ts === null && fitsClip(utc)) {
      ts = relative(utc);
      alignment = "track_start";
    }
  }
  if (ts === null) {
    const first = all[0]!;
    const when = first.cameraMs ?? first.utcMs;
    notes.push(
      `${raw.source}: GPS fixes cannot be placed in the clip (first fix ${
        when === undefined ? "has no time" : `at ${fmt(when)}`
      }, clip start ${
        fmt(startMs)
      } from ${startSource}, track longer than the clip)`,
    );
    return {
      source: raw.source,
      fixes: [],
      utcStartMs: null,
      alignment: "none",
      notes,
    };
  }
  const placed: Array<{ fix: GpsFix; raw: RawGpsFix }> = [];
  let outside = 0;
  for (let i = 0; i < all.length; i++) {
    const t = ts[i]!;
    if (!inSpan(t, durationS)) {
      outside += 1;
      continue;
    }
    placed.push({ fix: toFix(all[i]!, t), raw: all[i]! });
  }
  if (outside > 0) {
    notes.push(
      `${raw.source}: ${outside} of ${all.length} GPS fixes lie outside the clip's time span (${
        placed.length === 0
          ? `first fix ${
            fmt(all[0]!.cameraMs ?? all[0]!.utcMs ?? NaN)
          }, clip start ${fmt(startMs)} from ${startSource}`
          : `clip 0-${durationS.toFixed(1)} s`
      })`,
    );
  }
  placed.sort((a, b) => a.fix.t - b.fix.t);
  const { kept, dropped } = dropJumps(placed.map((p) => p.fix));
  if (dropped.length > 0) {
    notes.push(
      `${raw.source}: ${dropped.length} GPS fix(es) left out as a jump (faster than ${MAX_SPEED_KMH} km/h from both neighbours) at t=${
        dropped.map((f) => f.t.toFixed(1)).join(", ")
      } s`,
    );
  }
  const keptSet = new Set(kept);
  const offsets = placed
    .filter((p) => keptSet.has(p.fix) && p.raw.utcMs !== undefined)
    .map((p) => p.raw.utcMs! - p.fix.t * 1000);
  return {
    source: raw.source,
    fixes: kept,
    utcStartMs: offsets.length > 0 ? Math.round(median(offsets)) : null,
    alignment,
    notes,
  };
}
