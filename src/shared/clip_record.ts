/**
 * What the fleet's `video_metadata` and `tracks` tables get per clip and per
 * vehicle track (issue 13, seed-schema.md section 6). Plain data; a leaf.
 *
 * @module
 */

/** One clip, as the fleet's `video_metadata` keeps it. */
export interface ClipRecord {
  /** Clip id (content hash). */
  videoId: string;
  /** The clip's file name (no folder). */
  fileName: string | null;
  /** Start of the clip on the clock named by `timeSource` (ISO), when known. */
  startTs: string | null;
  /** Seconds, when known. */
  durationS: number | null;
  /** Frame width, pixels. */
  width: number | null;
  /** Frame height, pixels. */
  height: number | null;
  /** Native frame rate. */
  fps: number | null;
  /** Which clock `startTs` is on (see `FinalEvent.timeSource`). */
  timeSource: string | null;
  /** Where the GPS track came from (`exiftool`, `nmea:FILE`, …), or null. */
  gpsSource: string | null;
  /** GPS fixes inside the clip (0 without GPS). */
  gpsFixes: number;
  /** First fix, degrees. */
  gpsFirst: { lat: number; lon: number } | null;
  /** Last fix, degrees. */
  gpsLast: { lat: number; lon: number } | null;
  /** "done" or "failed". */
  status: string;
  /** The clip's note or error, one line. */
  error: string | null;
}

/** One vehicle track of a clip, as the fleet's `tracks` keeps it. */
export interface TrackRecord {
  /** Clip id. */
  videoId: string;
  /** Track id within the clip (the event's `trackId`). */
  trackId: number;
  /** Time of the first frame the track was seen in (ISO), when known. */
  firstSeen: string | null;
  /** Time of the last frame (ISO), when known. */
  lastSeen: string | null;
  /** First sampled frame index. */
  firstFrame: number | null;
  /** Last sampled frame index. */
  lastFrame: number | null;
  /** Sampled frames from first to last. */
  frames: number | null;
  /** Plate readings in the track. */
  reads: number | null;
  /** The track's voted plate. */
  finalPlate: string | null;
}
