/**
 * The layout of the data dir: the one place that names its folders and
 * files. Everything that builds a path inside `data_dir` asks here.
 *
 * ```text
 * DATA_DIR/
 *   dashcam.lock            the data-dir lock (daemon/data_lock.ts)
 *   pipeline.db             the task graph (graph/, only it opens the file)
 *   outbox.db               final events until synced (sink/, only it opens the file)
 *   frames/<video>/<n>.ppm  decoded frames, deleted once no task needs them
 *   crops/<video>/…         plate crops, evidence candidates (removed at clip end)
 *   evidence/<video>/<track>.png  the evidence crop kept with an event
 *   spool/                  local copies of clips from removable inboxes
 *   cache/                  downloads (the demo clip)
 * ```
 *
 * Naming a file here opens nothing: `pipeline.db` is opened only by
 * `src/graph`, `outbox.db` only by `src/sink` (see scripts/lint_deps.ts).
 *
 * @module
 */
import { join } from "node:path";

/** File and folder names inside the data dir. */
export const DATA_NAMES = {
  /** The data-dir lock file. */
  lock: "dashcam.lock",
  /** The task graph database. */
  pipelineDb: "pipeline.db",
  /** The durable outbox database. */
  outboxDb: "outbox.db",
  /** Decoded frames, one folder per clip. */
  frames: "frames",
  /** Plate crops, one folder per clip. */
  crops: "crops",
  /** Evidence PNGs, one folder per clip. */
  evidence: "evidence",
  /** Spooled copies of clips. */
  spool: "spool",
  /** Downloads (the demo clip). */
  cache: "cache",
} as const;

/**
 * A frame's reference relative to the data dir (what a task stores in its
 * dependencies): `frames/<videoId>/<index, 6 digits>.ppm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(frameRef("v1", 7), "frames/v1/000007.ppm");
 * ```
 * @param videoId The clip.
 * @param index Frame index (0-based, at the sampling rate).
 * @returns The relative reference.
 */
export function frameRef(videoId: string, index: number): string {
  return `${DATA_NAMES.frames}/${videoId}/${
    String(index).padStart(6, "0")
  }.ppm`;
}

/**
 * A plate crop's reference relative to the data dir.
 *
 * @param videoId The clip.
 * @param name The crop's file name.
 * @returns `crops/<videoId>/<name>`.
 */
export function cropRef(videoId: string, name: string): string {
  return `${DATA_NAMES.crops}/${videoId}/${name}`;
}

/**
 * An evidence PNG's reference relative to the data dir.
 *
 * @param videoId The clip.
 * @param trackId The track.
 * @returns `evidence/<videoId>/<trackId>.png`.
 */
export function evidenceRef(
  videoId: string,
  trackId: number | null,
): string {
  return `${DATA_NAMES.evidence}/${videoId}/${trackId}.png`;
}

/** Absolute paths in one data dir (see {@linkcode dataLayout}). */
export interface DataLayout {
  /** The data dir itself. */
  root: string;
  /** `dashcam.lock`. */
  lock: string;
  /** `pipeline.db`. */
  pipelineDb: string;
  /** `outbox.db`. */
  outboxDb: string;
  /** `frames/`. */
  frames: string;
  /** `crops/`. */
  crops: string;
  /** `evidence/`. */
  evidence: string;
  /** `spool/`. */
  spool: string;
  /** `cache/`. */
  cache: string;
  /** `frames/<videoId>/`. */
  framesOf(videoId: string): string;
  /** `crops/<videoId>/`. */
  cropsOf(videoId: string): string;
  /** `evidence/<videoId>/`. */
  evidenceOf(videoId: string): string;
  /** A reference relative to the data dir (a frame, crop or evidence ref) made absolute. */
  resolve(ref: string): string;
}

/**
 * The paths of one data dir.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const d = dataLayout("/var/lib/dashcam");
 * assert.equal(d.pipelineDb, "/var/lib/dashcam/pipeline.db");
 * assert.equal(d.framesOf("v1"), "/var/lib/dashcam/frames/v1");
 * ```
 * @param dataDir The data dir (as configured; not resolved here).
 * @returns Its paths.
 */
export function dataLayout(dataDir: string): DataLayout {
  const at = (name: string) => join(dataDir, name);
  return {
    root: dataDir,
    lock: at(DATA_NAMES.lock),
    pipelineDb: at(DATA_NAMES.pipelineDb),
    outboxDb: at(DATA_NAMES.outboxDb),
    frames: at(DATA_NAMES.frames),
    crops: at(DATA_NAMES.crops),
    evidence: at(DATA_NAMES.evidence),
    spool: at(DATA_NAMES.spool),
    cache: at(DATA_NAMES.cache),
    framesOf: (videoId) => join(dataDir, DATA_NAMES.frames, videoId),
    cropsOf: (videoId) => join(dataDir, DATA_NAMES.crops, videoId),
    evidenceOf: (videoId) => join(dataDir, DATA_NAMES.evidence, videoId),
    resolve: (ref) => join(dataDir, ref),
  };
}

/**
 * Counts the frame files (`frames/<video>/*.ppm`) of a data dir.
 *
 * @param dataDir The data dir.
 * @returns How many frames are on disk (0 when there is no `frames/`).
 */
export async function countFrames(dataDir: string): Promise<number> {
  const root = dataLayout(dataDir).frames;
  let n = 0;
  try {
    for await (const d of Deno.readDir(root)) {
      if (!d.isDirectory) continue;
      for await (const f of Deno.readDir(join(root, d.name))) {
        if (f.name.endsWith(".ppm")) n++;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}
