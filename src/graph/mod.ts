/**
 * The SQLite task graph (`pipeline.db`). Only this folder opens it.
 *
 * @module
 */
export * from "./db.ts";
export * from "./migrations.ts";
export * from "./clip_failures.ts";
export * from "./task_postpone.ts";
export * from "./recent_results.ts";
export * from "./task_store.ts";
export * from "./video_store.ts";
export * from "./gps_interpolate.ts";
export * from "./track_summaries.ts";
export * from "./segment_chain.ts";
export * from "./held_tracks.ts";
