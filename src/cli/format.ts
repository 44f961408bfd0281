/**
 * Human-readable lines for events. Pure.
 *
 * @module
 */
import type { FinalEvent } from "../shared/mod.ts";

/**
 * One line per event for a terminal.
 *
 * @param e The event.
 * @returns The line.
 */
export function formatEvent(e: FinalEvent): string {
  return `${e.ts}  ${e.finalPlate.padEnd(10)}  ${
    (e.plateConfidence * 100).toFixed(1).padStart(5)
  }%  video=${e.videoId} track=${e.trackId} frame=${e.frameIdx} plate_bbox=${
    JSON.stringify(e.plateBbox.map((v) => Math.round(v)))
  }`;
}
