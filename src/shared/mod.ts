/**
 * Plain data types shared by every part of the flow.
 *
 * @module
 */
export * from "./types.ts";
export * from "./file_hash.ts";
export * from "./stage.ts";
export * from "./sqlite.ts";
export * from "./statement_cache.ts";
export * from "./text_distance.ts";
export * from "./ppm.ts";
export * from "./data_fs.ts";
export * from "./data_layout.ts";
export * from "./malloc_tuning.ts";
export * from "./sqlite_migrate.ts";
export * from "./async.ts";
export * from "./geo.ts";
export * from "./gps_types.ts";
export * from "./clip_record.ts";
export * from "./evidence_paths.ts";
export * from "./time_zone.ts";
export * from "./heap_trim.ts";
