/**
 * Taking in one clip: stat, hash, probe and register it in the task graph.
 * A clip seen before (same path, size and mtime, or same content) is not
 * taken again; an unusable clip is recorded as failed with a one-line error.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { basename, resolve } from "node:path";
import {
  findVideoBySource,
  getVideo,
  registerVideo,
  setFailureKind,
  setVideoStatus,
  transaction,
  type VideoRow,
} from "../graph/mod.ts";
import {
  BadClipError,
  cameraOfClip,
  chainKey,
  clipStartTime,
  probeClip,
  videoIdFromHash,
} from "../ingest/mod.ts";
import { type CamerasConfig, cameraSettings } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { GpsCaptureInput } from "./clip_gps.ts";
import { sha256File } from "../shared/mod.ts";

/** Outcome of submitting a clip. */
export interface ClipSubmission {
  /** The clip path as given. */
  path: string;
  /** Its id, when known. */
  videoId: string | null;
  /** new: queued now; known: seen before (its status says how it ended); failed: unusable. */
  state: "new" | "known" | "failed";
  /** Status of the clip's row. */
  status: VideoRow["status"] | null;
  /** One-line error for a failed clip. */
  error?: string;
}

/** Options for {@linkcode submitClip}. */
export interface SubmitClipOptions {
  /** Logger. */
  log: Logger;
  /** Frames per second sampled from the clip. */
  samplingFps: number;
  /** Whether an error is a passing file-system fault. */
  isTransient: (err: unknown) => boolean;
  /** Queues a newly registered clip for decoding. */
  enqueueDecode: (videoId: string) => void;
  /** The camera's file name when `path` is a spooled copy (its time stamp is the start time). */
  originalName?: string;
  /** The `cameras` config section (each camera's clock). @default {UTC cameras} */
  cameras?: CamerasConfig;
  /**
   * Reads and keeps the clip's GPS track (see clip_gps.ts) before the clip
   * is registered; a failure there never fails the clip.
   */
  captureGps?: (videoId: string, input: GpsCaptureInput) => Promise<void>;
}

/**
 * Submits a clip: probes and hashes it, registers it, and queues decoding.
 * An unusable clip is recorded as failed with a one-line error; nothing
 * else is affected.
 *
 * @throws {Error} On a passing fault of the file system or the database
 * (read-only remount, I/O error): nothing is recorded, offer the clip again
 * later.
 * @param db The graph database.
 * @param path The clip.
 * @param options See {@linkcode SubmitClipOptions}.
 * @returns What happened.
 */
export async function submitClip(
  db: DatabaseSync,
  path: string,
  options: SubmitClipOptions,
): Promise<ClipSubmission> {
  const isTransient = options.isTransient;
  const abs = resolve(path);
  let videoId: string | null = null;
  try {
    const st = await Deno.stat(abs).catch((err) => {
      if (isTransient(err)) throw err;
      throw new BadClipError(
        path,
        err instanceof Deno.errors.NotFound ? "file not found" : err.message,
      );
    });
    if (!st.isFile) throw new BadClipError(path, "not a regular file");
    if (st.size === 0) throw new BadClipError(path, "file is empty");
    const mtimeMs = st.mtime?.getTime() ?? null;
    if (mtimeMs !== null) {
      const seen = findVideoBySource(db, {
        path: abs,
        size: st.size,
        mtimeMs,
      });
      if (seen && seen.status !== "failed") {
        return {
          path,
          videoId: seen.video_id,
          state: "known",
          status: seen.status,
        };
      }
    }
    const sha = await sha256File(abs).catch((err) => {
      if (isTransient(err)) throw err;
      throw new BadClipError(path, `${err.message}`);
    });
    videoId = videoIdFromHash(sha);
    const known = getVideo(db, videoId);
    if (known) {
      return { path, videoId, state: "known", status: known.status };
    }
    const info = await probeClip(abs);
    // The camera (folder) and channel of the file the camera wrote; names
    // and local creation times are read in its zone.
    const source = options.originalName ?? abs;
    const camera = cameraOfClip(source);
    const clock = options.cameras
      ? cameraSettings(options.cameras, camera.cameraId)
      : { time_zone: "UTC", creation_time: "utc" as const };
    const start = await clipStartTime(abs, info, {
      originalName: options.originalName,
      timeZone: clock.time_zone,
      creationTime: clock.creation_time,
    });
    if (options.captureGps) {
      try {
        // Camera-clock GPS times (Novatek, BlackVue [ms], R50) are matched
        // against the start on the camera's own clock, read as if UTC; a
        // start read in a configured zone is the true one ("camera_local").
        const zoned = clock.time_zone !== "UTC" &&
          (start.source === "name" ||
            (start.source === "container" && clock.creation_time === "local"));
        const cameraStart = zoned
          ? await clipStartTime(abs, info, {
            originalName: options.originalName,
          })
          : start;
        await options.captureGps(videoId, {
          cameraStartTime: cameraStart.startTime,
          path: abs,
          // A spooled copy's sidecars sit beside the camera's original.
          ...(options.originalName
            ? { originalPath: options.originalName }
            : {}),
          startTime: start.startTime,
          startSource: zoned ? "camera_local" : start.source,
          durationS: info.durationS,
          samplingFps: options.samplingFps,
        });
      } catch (err) {
        if (isTransient(err)) throw err;
        options.log.debug("clip GPS not kept; events get no location", {
          path,
          error: (err as Error).message.split("\n")[0],
        });
      }
    }
    registerVideo(db, {
      video_id: videoId,
      path: abs,
      size: st.size,
      sha256: sha,
      duration_s: info.durationS,
      fps: info.fps,
      width: info.width,
      height: info.height,
      start_time: start.startTime,
      sampling_fps: options.samplingFps,
      mtime_ms: mtimeMs,
      source_name: basename(source),
      camera_id: camera.cameraId,
      // Only a start the camera wrote (tag or name) places a segment in its
      // drive; a copied file's mtime does not.
      chain_key: start.source === "mtime" ? null : chainKey(camera),
      time_zone: clock.time_zone,
      stream_start_s: info.streamStartS,
      stream_index: info.streamIndex,
    }, { now: Date.now() });
    options.enqueueDecode(videoId);
    return { path, videoId, state: "new", status: "queued" };
  } catch (err) {
    const message = (err as Error).message.split("\n")[0];
    if (!(err instanceof BadClipError) && isTransient(err)) {
      options.log.warn("cannot take clip now; it is offered again later", {
        path,
        error: message,
      });
      throw err;
    }
    const id = videoId ??
      "path-" + createHash("sha256").update(abs).digest("hex").slice(0, 11);
    transaction(db, () => {
      registerVideo(db, { video_id: id, path: abs }, { now: Date.now() });
      setVideoStatus(db, {
        videoId: id,
        status: "failed",
        error: message,
        now: Date.now(),
      });
      setFailureKind(db, { videoId: id, kind: "clip" });
    });
    options.log.error(message);
    return {
      path,
      videoId: id,
      state: "failed",
      status: "failed",
      error: message,
    };
  }
}
