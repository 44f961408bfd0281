/**
 * A clip's GPS track: read from the clip itself with ExifTool, else from a
 * sidecar with the same base name (`.nmea`, `.gps`, BlackVue's `_N.gps`
 * beside `_NF.mp4`/`_NR.mp4`), else from a Kaiser Bass R50 daily log
 * (`YYYYMMDD.dat` beside the clip or in `../gps/`), placed on the clip's time
 * line (see `gps_align.ts`) and kept as `DATA_DIR/gps/<video_id>.json`.
 * `.gpx` and `.srt` sidecars are noted but not read: ExifTool 12.57 reads
 * no track from them (it reports them as text).
 *
 * @module
 */
import { basename, dirname, extname, join } from "node:path";
import { makeDataDir, writeDataFile } from "../shared/mod.ts";
import type { RawGpsTrack } from "./gps_fix.ts";
import { alignTrack, type ClipTiming, type GpsTrack } from "./gps_align.ts";
import { fixesFromExiftool } from "./exiftool_gps.ts";
import { runExiftool } from "./exiftool.ts";
import { parseNmea } from "./nmea.ts";
import { parseR50Log } from "./r50_log.ts";

/** A sidecar to try, and how to read it. */
export interface GpsSidecar {
  /** Its path. */
  path: string;
  /** "nmea", "r50", or "unread" (a .gpx/.srt: noted only). */
  kind: "nmea" | "r50" | "unread";
}

/**
 * The sidecar paths a clip may have, most specific first (they may not
 * exist). Pure.
 *
 * @example A BlackVue front clip
 * ```ts
 * import assert from "node:assert/strict";
 * const paths = sidecarCandidates("/sd/20260718_070331_NF.mp4").map((s) => s.path);
 * assert.ok(paths.includes("/sd/20260718_070331_N.gps"));
 * ```
 * @param clipPath The clip (its original path, not a spooled copy).
 * @returns Candidates.
 */
export function sidecarCandidates(clipPath: string): GpsSidecar[] {
  const dir = dirname(clipPath);
  const stem = basename(clipPath, extname(clipPath));
  const out: GpsSidecar[] = [];
  const stems = [stem];
  // BlackVue: 20260718_070331_NF.mp4 / _NR.mp4 share 20260718_070331_N.gps.
  const bv = /^(.*_[NEPMIOTBAX])[FRI]$/.exec(stem);
  if (bv) stems.push(bv[1]!);
  for (const s of stems) {
    for (const ext of [".nmea", ".NMEA", ".gps", ".GPS"]) {
      out.push({ path: join(dir, s + ext), kind: "nmea" });
    }
  }
  const day = /(?<!\d)(20\d\d)(\d\d)(\d\d)[-_T]?\d{6}(?!\d)/.exec(stem);
  if (day) {
    const name = `${day[1]}${day[2]}${day[3]}.dat`;
    out.push({ path: join(dir, name), kind: "r50" });
    out.push({ path: join(dir, "..", "gps", name), kind: "r50" });
  }
  for (const ext of [".gpx", ".GPX", ".srt", ".SRT"]) {
    out.push({ path: join(dir, stem + ext), kind: "unread" });
  }
  return out;
}

/** Options for {@linkcode readClipGps}. */
export interface ReadClipGpsOptions {
  /** The clip's recorded start, its source and duration. */
  timing: ClipTiming;
  /** ExifTool program, or null when it is not available (sidecars only). @default {"exiftool"} */
  exiftool?: string | null;
  /** The clip's original path (sidecars sit there, not beside a spooled copy). @default {the clip path} */
  originalPath?: string;
  /** Stops ExifTool. */
  signal?: AbortSignal;
  /**
   * Reads a clip with ExifTool (an engine's `ExiftoolSession.read`: one
   * process for all clips). @default {a one-off runExiftool of `exiftool`}
   */
  readExif?: (
    path: string,
    options: { signal?: AbortSignal },
  ) => Promise<Record<string, unknown>>;
}

/** What {@linkcode readClipGps} found. */
export interface ClipGps {
  /** The track used, or null when no source gave a fix inside the clip. */
  track: GpsTrack | null;
  /** Why sources or fixes were left out, one line each (for a debug line). */
  notes: string[];
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * Reads a clip's GPS track from the clip (ExifTool) or its sidecars. Never
 * throws for bad input: a source that fails or gives nothing usable is a
 * note, and the clip simply has no track.
 *
 * @example
 * ```ts ignore
 * const { track, notes } = await readClipGps("/sd/clip.mp4", { timing });
 * ```
 * @param clipPath The clip.
 * @param options Timing, ExifTool, original path.
 * @returns The track (or null) and notes.
 */
export async function readClipGps(
  clipPath: string,
  options: ReadClipGpsOptions,
): Promise<ClipGps> {
  const { timing, exiftool = "exiftool", signal } = options;
  const original = options.originalPath ?? clipPath;
  const notes: string[] = [];
  const tryRaw = (raw: RawGpsTrack): GpsTrack | null => {
    const track = alignTrack(raw, timing);
    notes.push(...track.notes);
    return track.fixes.length > 0 ? track : null;
  };
  if (exiftool !== null) {
    try {
      const read = options.readExif ??
        ((path: string, o: { signal?: AbortSignal }) =>
          runExiftool(path, { bin: exiftool, ...o }));
      const record = await read(clipPath, signal ? { signal } : {});
      const raw = fixesFromExiftool(record);
      if (raw.fixes.length > 0 || raw.skipped.count > 0) {
        const track = tryRaw(raw);
        if (track) return { track, notes };
      }
    } catch (err) {
      notes.push((err as Error).message.split("\n")[0]!);
    }
  }
  for (const side of sidecarCandidates(original)) {
    let text: string | null;
    try {
      text = await readText(side.path);
    } catch (err) {
      notes.push(
        `GPS sidecar ${side.path} not read: ${(err as Error).message}`,
      );
      continue;
    }
    if (text === null) continue;
    if (side.kind === "unread") {
      notes.push(
        `GPS sidecar ${side.path} not read: ExifTool reads no track from ${
          extname(side.path)
        } files`,
      );
      continue;
    }
    try {
      const raw = side.kind === "nmea"
        ? parseNmea(text, { source: side.path })
        : parseR50Log(text, { source: side.path });
      const track = tryRaw(raw);
      if (track) return { track, notes };
    } catch (err) {
      notes.push((err as Error).message.split("\n")[0]!);
    }
  }
  if (notes.length === 0) notes.push("no GPS in the clip and no GPS sidecar");
  return { track: null, notes };
}

/** Path of a clip's stored track, relative to the data dir. */
export function gpsTrackPath(videoId: string): string {
  return join("gps", `${videoId}.json`);
}

/**
 * Stores a clip's track as `DATA_DIR/gps/<video_id>.json` (written to a temp
 * file and renamed, 0640).
 *
 * @param dataDir The data dir.
 * @param input The clip id and its track.
 */
export async function saveGpsTrack(
  dataDir: string,
  input: { videoId: string; track: GpsTrack },
): Promise<void> {
  await makeDataDir(join(dataDir, "gps"));
  const path = join(dataDir, gpsTrackPath(input.videoId));
  await writeDataFile(
    `${path}.tmp`,
    new TextEncoder().encode(JSON.stringify(input.track)),
  );
  await Deno.rename(`${path}.tmp`, path);
}

/**
 * Loads a clip's stored track.
 *
 * @param dataDir The data dir.
 * @param videoId The clip.
 * @returns The track, or null when the clip has none (or it cannot be read).
 */
export function loadGpsTrack(
  dataDir: string,
  videoId: string,
): GpsTrack | null {
  try {
    const track = JSON.parse(
      Deno.readTextFileSync(join(dataDir, gpsTrackPath(videoId))),
    ) as GpsTrack;
    return Array.isArray(track.fixes) ? track : null;
  } catch {
    return null;
  }
}

/**
 * Deletes a clip's stored track (retention).
 *
 * @param dataDir The data dir.
 * @param videoId The clip.
 */
export function removeGpsTrack(dataDir: string, videoId: string): void {
  try {
    Deno.removeSync(join(dataDir, gpsTrackPath(videoId)));
  } catch { /* none */ }
}
