/**
 * Ingest: clips in, sampled frames out. Only this folder spawns ffmpeg.
 *
 * @module
 */
export * from "./child_env.ts";
export * from "./cut_short.ts";
export * from "./ffmpeg_args.ts";
export * from "./frames.ts";
export * from "./image_decode.ts";
export * from "./probe.ts";
export * from "./segment_name.ts";
export * from "./spool.ts";
export * from "./start_time.ts";
export * from "./video_id.ts";
export * from "./video_stream.ts";
export * from "./watch.ts";
export * from "./watch.ts";
export * from "./exiftool.ts";
export * from "./exiftool_gps.ts";
export * from "./gps_fix.ts";
export * from "./gps_align.ts";
export * from "./gps_track.ts";
export * from "./nmea.ts";
export * from "./r50_log.ts";
export * from "./exiftool_session.ts";
