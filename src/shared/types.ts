/**
 * Plain data types shared by every part of the flow. This file is a leaf: it
 * imports nothing and does no I/O.
 *
 * @module
 */

/** The five stages of the task graph, in pipeline order. */
export const TASK_CATEGORIES = [
  "vehicle_detect",
  "plate_detect",
  "ocr",
  "plate_smooth",
  "summary",
] as const;

/** One stage of the task graph. */
export type TaskCategory = typeof TASK_CATEGORIES[number];

/** An axis-aligned box `[x1, y1, x2, y2]` in source-frame pixels. */
export type Box = [number, number, number, number];

/** An RGB image: `width * height * 3` bytes, row-major, no padding. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Interleaved R, G, B bytes. */
  data: Uint8Array;
}

/** A detected object. */
export interface Detection {
  /** Box in source-frame pixels. */
  box: Box;
  /** Detector score in 0..1. */
  score: number;
  /** Class index of the model (COCO index for vehicles, 0 for plates). */
  classId: number;
}

/** One OCR reading of one plate crop. */
export interface PlateRead {
  /** Text, upper case A-Z and 0-9, padding stripped. */
  text: string;
  /** Overall confidence in 0..1 (mean of the character probabilities). */
  confidence: number;
  /** Probability of each character of `text`. */
  charProbs: number[];
  /** Region hint from the OCR's region head, when the model has one. */
  region?: string;
  /** Probability of `region`. */
  regionProb?: number;
  /**
   * For every OCR slot (padding slots included), the top candidates as
   * `[character, probability]`, most likely first; the pad character is `_`.
   * Format rules and per-character voting use it.
   */
  slotTop?: Array<Array<[string, number]>>;
}

/** A final vehicle event: one per (video_id, track_id), as the outbox and Postgres keep it. */
export interface FinalEvent {
  /** Stable, unique key that makes delivery idempotent: `${video_id}:${track_id}`. */
  eventKey: string;
  /** Source clip id (content hash). */
  videoId: string;
  /** Track id within the clip. */
  trackId: number;
  /** Frame index (in sampled frames) of the best reading. */
  frameIdx: number;
  /** Event time, ISO 8601 with offset. */
  ts: string;
  /** Smoothed plate text. */
  finalPlate: string;
  /** Confidence of `finalPlate` in 0..1. */
  plateConfidence: number;
  /** Vehicle box in source-frame pixels. */
  carBbox: Box;
  /** Plate box in source-frame pixels. */
  plateBbox: Box;
  /** Path of the saved plate crop (evidence), relative to the data dir, when saved. */
  evidence?: string;
  // GPS (issue 13): present only when the clip's track gave a position at
  // this event's frame time (src/ingest/gps_track.ts, src/vision/gps_interpolate.ts).
  /** Latitude at the event's frame, WGS 84 degrees. */
  lat?: number;
  /** Longitude at the event's frame, WGS 84 degrees. */
  lon?: number;
  /** Ground speed at the event's frame, km/h, when known. */
  speedKmh?: number;
  /** Course at the event's frame, degrees clockwise from true north, when known. */
  headingDeg?: number;
  /**
   * Which clock `ts` was taken from: "gps" (UTC fix times of the clip's
   * track), "camera_utc" (the container's creation time), "file_name" (a
   * time in the file name), "file_mtime" (the file's mtime minus its
   * duration); other values may be added (a configured camera zone).
   */
  timeSource?: string;
  /** The clip's file name as the camera wrote it (the best reading's clip). */
  clip?: string;
  /** Seconds into that clip of the best reading (presentation time). */
  clipTimeS?: number;
  /** Camera id (the clip's folder name; `cameras` config key). */
  camera?: string;
}
