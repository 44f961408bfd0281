/**
 * Whether a decoded clip was cut short (a file truncated by a power cut or
 * an SD card pulled while recording). Pure.
 *
 * @module
 */

/** What a clip's decode gave. */
export interface DecodeTally {
  /** Frames decoded at the sampling rate. */
  framesDecoded: number;
  /** Duration the container states, in seconds (0 when unknown). */
  durationS: number;
  /** Sampling rate in frames per second. */
  fps: number;
}

/**
 * The note for a clip whose decode ended more than one second (and at least
 * two frames) before the duration its container states, else `null`. A
 * truncated MP4 whose index is at the start (faststart) still states the
 * whole duration, and ffmpeg ends at the last whole packet with exit status
 * 0, so the frame count is what tells. The second of slack covers audio that
 * runs past the video and the sampler's rounding.
 *
 * @param tally Frames decoded, stated duration and sampling rate.
 * @returns `cut short: decoded N of M frames (P%)`, or `null`.
 */
export function cutShortNote(tally: DecodeTally): string | null {
  const { framesDecoded, durationS, fps } = tally;
  if (!(durationS > 0) || !(fps > 0)) return null;
  const expected = Math.floor(durationS * fps);
  const slack = Math.max(2, Math.ceil(fps));
  if (framesDecoded >= expected - slack) return null;
  const pct = Math.floor((100 * framesDecoded) / expected);
  return `cut short: decoded ${framesDecoded} of ${expected} frames (${pct}%)`;
}

/**
 * The fraction of a clip's stated duration that decoded, 0..1 rounded to
 * 3 decimals (1 when the duration or rate is unknown): kept in
 * `video_metadata.decoded_fraction` for every clip, so a clip cut short
 * can be found by a query (`decoded_fraction < 1`), not only by its note.
 *
 * @example
 * ```ts
 * import { decodedFraction } from "./cut_short.ts";
 * import assert from "node:assert/strict";
 * assert.equal(decodedFraction({ framesDecoded: 150, durationS: 60, fps: 5 }), 0.5);
 * ```
 * @param tally Frames decoded, stated duration and sampling rate.
 * @returns The fraction.
 */
export function decodedFraction(tally: DecodeTally): number {
  const { framesDecoded, durationS, fps } = tally;
  if (!(durationS > 0) || !(fps > 0)) return 1;
  const expected = Math.floor(durationS * fps);
  if (expected <= 0 || cutShortNote(tally) === null) return 1;
  return Math.min(1, Math.round((1000 * framesDecoded) / expected) / 1000);
}
