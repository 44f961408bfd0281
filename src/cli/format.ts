/**
 * Human-readable lines for events. Pure.
 *
 * @module
 */
import { type CamerasConfig, cameraSettings } from "../config/mod.ts";
import { type FinalEvent, formatLocalTime } from "../shared/mod.ts";

/** Options for {@linkcode formatEvent}. */
export interface FormatEventOptions {
  /** The `cameras` config section: each event's time is shown in its camera's zone. @default {UTC} */
  cameras?: CamerasConfig;
}

function box(b: readonly number[]): string {
  return JSON.stringify(b.map((v) => Math.round(v)));
}

/**
 * An event's time as local time of its camera, with the offset
 * (`2026-03-15T08:15:02+01:00`).
 *
 * @param e The event.
 * @param options The cameras section.
 * @returns The time.
 */
export function localEventTime(
  e: Pick<FinalEvent, "ts" | "camera">,
  options: FormatEventOptions = {},
): string {
  const zone = options.cameras
    ? cameraSettings(options.cameras, e.camera ?? "").time_zone
    : "UTC";
  return formatLocalTime(e.ts, zone);
}

/**
 * One line per event for a terminal: local time with offset, plate,
 * confidence, the clip's file name and the time in it (seconds), the car
 * and plate boxes (pixels `[x1,y1,x2,y2]`), then the ids.
 *
 * @example
 * ```ts
 * import { formatEvent } from "./format.ts";
 * import assert from "node:assert/strict";
 * const line = formatEvent({
 *   eventKey: "v:1", videoId: "v", trackId: 1, frameIdx: 16,
 *   ts: "2026-03-15T08:15:05.200Z", finalPlate: "PE63TVF", plateConfidence: 0.97,
 *   carBbox: [500, 300, 800, 600], plateBbox: [600, 500, 700, 530],
 *   clip: "2026_0315_081502_F.MP4", clipTimeS: 3.2,
 * });
 * assert.ok(line.includes("2026_0315_081502_F.MP4 at 3.2 s"));
 * assert.ok(line.includes("car=[500,300,800,600]"));
 * ```
 * @param e The event.
 * @param options The cameras section (time zones).
 * @returns The line.
 */
export function formatEvent(
  e: FinalEvent,
  options: FormatEventOptions = {},
): string {
  const where = e.clip !== undefined
    ? `${e.clip} at ${(e.clipTimeS ?? 0).toFixed(1)} s  `
    : "";
  return `${localEventTime(e, options)}  ${e.finalPlate.padEnd(10)}  ${
    (e.plateConfidence * 100).toFixed(1).padStart(5)
  }%  ${where}car=${box(e.carBbox)} plate=${
    box(e.plateBbox)
  } video=${e.videoId} track=${e.trackId} frame=${e.frameIdx}`;
}

/**
 * The line for a clip that gave no plate.
 *
 * @param clip The clip's file name.
 * @returns The line.
 */
export function formatNoPlates(clip: string): string {
  return `${clip}: no plates found`;
}
