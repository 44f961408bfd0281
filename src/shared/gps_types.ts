/**
 * A clip's GPS track as the flow passes it on: fixes on the clip's time
 * line (made by `src/ingest/gps_align.ts`, interpolated by
 * `src/vision/gps_interpolate.ts`). Plain data; a leaf.
 *
 * @module
 */

/** A fix on the clip's time line. */
export interface GpsFix {
  /** Seconds from the clip's start. */
  t: number;
  /** Latitude, WGS 84 degrees. */
  lat: number;
  /** Longitude, WGS 84 degrees. */
  lon: number;
  /** Ground speed, km/h, when the source gave one. */
  speedKmh?: number;
  /** Course, degrees from true north, when the source gave one. */
  headingDeg?: number;
}

/** A clip's GPS track, ready for interpolation (stored per clip). */
export interface GpsTrack {
  /** Where the fixes came from (`exiftool`, `nmea:FILE`, `r50:FILE`). */
  source: string;
  /** Fixes by increasing `t`. */
  fixes: GpsFix[];
  /** The clip's true start from GPS UTC times (ms since the epoch), or null. */
  utcStartMs: number | null;
  /** How `t` was found: "clip_time", "camera_clock", "utc", "track_start". */
  alignment: string;
  /** Why fixes were left out, one line each (logged at debug level). */
  notes: string[];
}
