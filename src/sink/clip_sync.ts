/**
 * Sends finished clips and their vehicle tracks to the fleet's
 * `video_metadata` and `tracks` (issue 13), like events: one statement per
 * table with `ON CONFLICT … DO NOTHING` on the keys that hold `device_id`,
 * and the outbox marked only afterwards, so each row arrives exactly once
 * across crashes and server restarts. Joined to `vehicles` by `video_id`
 * (and `track_id`).
 *
 * @module
 */
import type { Outbox } from "./outbox.ts";
import type { PgSql } from "./pg_client.ts";

/** Options for {@linkcode syncClips}. */
export interface SyncClipsOptions {
  /** This vehicle's id. */
  deviceId: string;
  /** Clips per round trip. @default {100} */
  batchSize?: number;
  /** Clock for `sent_at`. @default {() => new Date()} */
  now?: () => Date;
  /** Stops between batches. */
  signal?: AbortSignal;
}

/**
 * Sends every clip not yet in the fleet database.
 *
 * @example
 * ```ts ignore
 * await syncClips(outbox, sql, { deviceId: "van-7" });
 * ```
 * @param outbox The outbox.
 * @param sql Client of the fleet database (migrated to version 7 or later).
 * @param options Device id, batch size, clock.
 * @returns Clips and tracks inserted now.
 * @throws {Error} The driver's error (nothing is marked; the next pass resends).
 */
export async function syncClips(
  outbox: Outbox,
  sql: PgSql,
  options: SyncClipsOptions,
): Promise<{ clips: number; tracks: number }> {
  const { deviceId, batchSize = 100, now = () => new Date(), signal } = options;
  const done = { clips: 0, tracks: 0 };
  while (!signal?.aborted) {
    const batch = outbox.unsentClips(batchSize);
    if (batch.length === 0) break;
    const clips = batch.map(({ clip: c }) => ({
      device_id: deviceId,
      video_id: c.videoId,
      file_name: c.fileName,
      start_ts: c.startTs,
      duration_s: c.durationS,
      width: c.width,
      height: c.height,
      fps: c.fps,
      time_source: c.timeSource,
      gps_source: c.gpsSource,
      gps_fixes: c.gpsFixes,
      gps_first_lat: c.gpsFirst?.lat ?? null,
      gps_first_lon: c.gpsFirst?.lon ?? null,
      gps_last_lat: c.gpsLast?.lat ?? null,
      gps_last_lon: c.gpsLast?.lon ?? null,
      status: c.status,
      error: c.error,
    }));
    const tracks = batch.flatMap(({ tracks: ts }) =>
      ts.map((t) => ({
        device_id: deviceId,
        video_id: t.videoId,
        track_id: t.trackId,
        first_seen: t.firstSeen,
        last_seen: t.lastSeen,
        first_frame: t.firstFrame,
        last_frame: t.lastFrame,
        frames: t.frames,
        reads: t.reads,
        final_plate: t.finalPlate,
      }))
    );
    const c = await sql`
      INSERT INTO video_metadata ${sql(clips)}
      ON CONFLICT (device_id, video_id) DO NOTHING`;
    done.clips += c.count;
    if (tracks.length > 0) {
      const t = await sql`
        INSERT INTO tracks ${sql(tracks)}
        ON CONFLICT (device_id, video_id, track_id) DO NOTHING`;
      done.tracks += t.count;
    }
    outbox.markClipsSent(batch.map((b) => b.clip.videoId), now().toISOString());
  }
  return done;
}
