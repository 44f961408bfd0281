/**
 * GPS for the engine (issue 13): at intake each clip's track is read
 * (ExifTool on the clip, else an NMEA/R50 sidecar; `src/ingest/gps_track.ts`)
 * and kept as `DATA_DIR/gps/<video_id>.json` with the clip's recorded start
 * and where it came from; every final event is then given the position,
 * speed and heading interpolated at its frame time, and, when the track
 * carries true UTC fix times, a `ts` on that clock (`timeSource: "gps"`).
 * Bad input never stops a clip: no GPS, no fix, fixes outside the clip, a
 * sidecar that is not NMEA or a jumping track give events without (or with
 * fewer) locations and one debug line saying why. ExifTool missing: one
 * warning at start-up, sidecars are still read.
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../log/mod.ts";
import {
  type ClipTiming,
  ExiftoolSession,
  type GpsTrack,
  readClipGps,
  type StartSource,
} from "../ingest/mod.ts";
import {
  dataLayout,
  type FinalEvent,
  makeDataDir,
  writeDataFile,
} from "../shared/mod.ts";
import { gpsAt } from "../graph/mod.ts";
import type { EventSink } from "./event_sink.ts";

/** What is kept per clip in `gps/<video_id>.json`. */
export interface ClipGpsRecord {
  /** The clip's start as recorded (ISO). */
  startTime: string;
  /** Where it came from (`clipStartTime`'s source, or a later one). */
  startSource: string;
  /** Frames sampled per second: an event's frame time is `frameIdx / samplingFps`. */
  samplingFps: number;
  /** The track, or null when the clip has none. */
  track: GpsTrack | null;
}

/**
 * The event's `timeSource` for a recorded start source: "container" →
 * "camera_utc", "name" → "file_name", "mtime" → "file_mtime"; any other
 * value is passed on as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(timeSourceOf("name"), "file_name");
 * ```
 * @param startSource The source.
 * @returns The event's time source.
 */
export function timeSourceOf(startSource: string): string {
  switch (startSource) {
    case "container":
      return "camera_utc";
    case "name":
      return "file_name";
    case "mtime":
      return "file_mtime";
    case "camera_local":
      return "camera_local";
    default:
      return startSource;
  }
}

/**
 * Gives an event its place and clock from the clip's record. Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const e = enrichEvent(
 *   { eventKey: "v:1", videoId: "v", trackId: 1, frameIdx: 5, ts: "2026-01-01T00:00:01.000Z", finalPlate: "AB1", plateConfidence: 1, carBbox: [0, 0, 1, 1], plateBbox: [0, 0, 1, 1] },
 *   { startTime: "2026-01-01T00:00:00.000Z", startSource: "name", samplingFps: 5, track: { source: "t", alignment: "camera_clock", notes: [], utcStartMs: Date.UTC(2025, 11, 31, 23, 0, 0), fixes: [{ t: 0, lat: 50, lon: 30 }, { t: 2, lat: 50.0002, lon: 30 }] } },
 * );
 * assert.equal(e.event.ts, "2025-12-31T23:00:01.000Z");
 * assert.equal(e.event.timeSource, "gps");
 * assert.ok(Math.abs(e.event.lat! - 50.0001) < 1e-9);
 * ```
 * @param event The event (`frameIdx` counts frames sampled at the record's rate).
 * @param record The clip's record.
 * @returns The event with the GPS fields, and why the location is missing (or null).
 */
export function enrichEvent(
  event: FinalEvent,
  record: ClipGpsRecord,
): { event: FinalEvent; missing: string | null } {
  const out: FinalEvent = { ...event };
  const tS = event.frameIdx / record.samplingFps;
  out.timeSource ??= timeSourceOf(record.startSource);
  const track = record.track;
  if (!track || !Number.isFinite(tS)) {
    return { event: out, missing: "the clip has no usable GPS track" };
  }
  if (track.utcStartMs !== null) {
    out.ts = new Date(track.utcStartMs + Math.round(tS * 1000)).toISOString();
    out.timeSource = "gps";
  }
  const at = gpsAt(track.fixes, tS);
  if (!at.ok) return { event: out, missing: at.reason };
  out.lat = Math.round(at.lat * 1e7) / 1e7;
  out.lon = Math.round(at.lon * 1e7) / 1e7;
  if (at.speedKmh !== null) out.speedKmh = Math.round(at.speedKmh * 100) / 100;
  if (at.headingDeg !== null) {
    out.headingDeg = Math.round(at.headingDeg * 10) / 10;
  }
  return { event: out, missing: null };
}

/** What {@linkcode ClipGps.capture} needs of a clip (intake passes it). */
export interface GpsCaptureInput {
  /** The clip's path (a spooled copy's, when spooled). */
  path: string;
  /** The camera's original path of a spooled clip. */
  originalPath?: string;
  /** The start on the camera's own clock read as if UTC, when it differs from `startTime`. */
  cameraStartTime?: string;
  /** The clip's recorded start (ISO 8601). */
  startTime: string;
  /** Where the start came from. */
  startSource: StartSource | string;
  /** Duration in seconds. */
  durationS: number;
  /** Sampling rate in frames per second. */
  samplingFps: number;
}

/** Options for {@linkcode ClipGps.start}. */
export interface ClipGpsOptions {
  /** The data dir. */
  dataDir: string;
  /** Logger. */
  log: Logger;
  /** ExifTool program; null reads sidecars only. @default {"exiftool"} */
  exiftool?: string | null;
}

/** GPS capture at intake and enrichment of events, for one engine. */
export class ClipGps {
  #dataDir: string;
  #log: Logger;
  #exiftool: string | null;
  /** One ExifTool for all clips, started on the first clip (issue 14). */
  #session: ExiftoolSession | null = null;
  #closed = false;
  #records = new Map<string, ClipGpsRecord | null>();
  /** The ExifTool check of {@linkcode ClipGps.start}; never rejects. */
  #checked: Promise<void> = Promise.resolve();

  private constructor(dataDir: string, log: Logger, exiftool: string | null) {
    this.#dataDir = dataDir;
    this.#log = log;
    this.#exiftool = exiftool;
  }

  /** The running ExifTool's process id, or null when none runs (tests). */
  get exiftoolPid(): number | null {
    return this.#session?.pid ?? null;
  }

  /**
   * Stops the ExifTool process (the engine's stop); a clip taken after
   * this is read by a one-off ExifTool run, so none is left running.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#checked;
    const session = this.#session;
    this.#session = null;
    await session?.close();
  }

  /**
   * Starts checking ExifTool once (one warning when it cannot run), through
   * the ExifTool process the first clip will use, and returns at once: a
   * clip's {@linkcode capture} waits for the check, so the engine hashes and
   * probes the first clip meanwhile (the check starts perl, about 0.2 s).
   *
   * @param options Data dir, logger, program.
   * @returns The capture; {@linkcode ready} tells when the check is done.
   */
  static start(options: ClipGpsOptions): ClipGps {
    const { dataDir, log, exiftool = "exiftool" } = options;
    const gps = new ClipGps(dataDir, log, exiftool);
    if (exiftool === null) return gps;
    const session = new ExiftoolSession({ bin: exiftool });
    gps.#session = session;
    gps.#checked = session.version().catch(() => null).then(
      async (version) => {
        if (version) return;
        gps.#exiftool = null;
        gps.#session = null;
        await session.close().catch(() => {}); // keeps the check from rejecting
        log.warn(
          `Cannot run ${exiftool} (gps.exiftool): events get no location from GPS embedded in clips; install Debian's libimage-exiftool-perl (NMEA sidecars are still read)`,
        );
      },
    );
    return gps;
  }

  /** Resolves (never rejects) when the ExifTool check of {@linkcode start} is done. */
  get ready(): Promise<void> {
    return this.#checked;
  }

  #path(videoId: string): string {
    return join(dataLayout(this.#dataDir).root, "gps", `${videoId}.json`);
  }

  /**
   * Reads and keeps a clip's track. Never throws for the clip's sake: a
   * failure is one debug line and the clip has no track.
   *
   * @param videoId The clip's id.
   * @param input The clip's path (and original path), recorded start and its source, duration.
   */
  async capture(
    videoId: string,
    input: GpsCaptureInput,
  ): Promise<void> {
    await this.#checked;
    const timing: ClipTiming = {
      startMs: Date.parse(input.startTime),
      ...(input.cameraStartTime
        ? { cameraStartMs: Date.parse(input.cameraStartTime) }
        : {}),
      startSource:
        (["container", "name", "mtime"].includes(input.startSource)
          ? input.startSource
          : "name") as StartSource,
      durationS: input.durationS,
    };
    if (this.#exiftool !== null && !this.#closed) {
      this.#session ??= new ExiftoolSession({ bin: this.#exiftool });
    }
    const session = this.#session;
    const { track, notes } = await readClipGps(input.path, {
      timing,
      exiftool: this.#exiftool,
      ...(session ? { readExif: (path, o) => session.read(path, o) } : {}),
      ...(input.originalPath ? { originalPath: input.originalPath } : {}),
    });
    if (notes.length > 0) {
      this.#log.debug(
        track ? "clip GPS: some fixes left out" : "clip GPS: no location",
        { video: videoId, path: input.path, why: notes.join("; ") },
      );
    }
    const record: ClipGpsRecord = {
      startTime: input.startTime,
      startSource: input.startSource,
      samplingFps: input.samplingFps,
      track,
    };
    const path = this.#path(videoId);
    await makeDataDir(join(path, ".."));
    await writeDataFile(
      `${path}.tmp`,
      new TextEncoder().encode(JSON.stringify(record)),
    );
    await Deno.rename(`${path}.tmp`, path);
    this.#records.set(videoId, record);
  }

  /**
   * The clip's record, or null when none was kept (a clip taken before
   * this version, or its GPS capture failed).
   *
   * @param videoId The clip.
   * @returns The record.
   */
  record(videoId: string): ClipGpsRecord | null {
    if (this.#records.has(videoId)) return this.#records.get(videoId)!;
    let record: ClipGpsRecord | null = null;
    try {
      record = JSON.parse(
        Deno.readTextFileSync(this.#path(videoId)),
      ) as ClipGpsRecord;
    } catch {
      record = null;
    }
    this.#records.set(videoId, record);
    return record;
  }

  /**
   * Forgets a finished clip's record and deletes its file (its events and
   * its fleet row are stored by then).
   *
   * @param videoId The clip.
   */
  forget(videoId: string): void {
    this.#records.delete(videoId);
    try {
      Deno.removeSync(this.#path(videoId));
    } catch { /* none */ }
  }

  /**
   * Wraps a sink so that every event gets its place and clock first.
   *
   * @param sink The sink.
   * @returns The wrapping sink.
   */
  sink(sink: EventSink): EventSink {
    return {
      ...(sink.addClip
        ? {
          addClip: (clip, tracks) => sink.addClip!(clip, tracks),
        }
        : {}),
      add: (event: FinalEvent): boolean => {
        const record = this.record(event.videoId);
        if (record === null) return sink.add(event);
        const { event: enriched, missing } = enrichEvent(event, record);
        if (missing !== null) {
          this.#log.debug("event without location", {
            event_key: event.eventKey,
            why: missing,
          });
        }
        return sink.add(enriched);
      },
    };
  }
}
