/**
 * The frame files of the data dir (`frames/<video>/<n>.ppm`): written
 * atomically by the decoder, deleted once no task needs them, swept after a
 * crash, and counted for the decoder's back-pressure and for status.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { frameUsers, getVideo } from "../graph/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  countFrames,
  DATA_NAMES,
  type DataLayout,
  deadline,
  writeDataFile,
} from "../shared/mod.ts";

/** Options for {@linkcode FrameFiles}. */
export interface FrameFilesOptions {
  /** Logger. */
  log: Logger;
  /** Whether an error is a passing file-system fault (the frame is left for later). */
  isTransient: (err: unknown) => boolean;
  /** Counters shared with the engine (`framesDeleted` is counted here). */
  stats: { framesDeleted: number };
}

/** The frames on disk of one data dir, with their count. */
export class FrameFiles {
  #db: DatabaseSync;
  #data: DataLayout;
  #log: Logger;
  #isTransient: (err: unknown) => boolean;
  #stats: { framesDeleted: number };
  #count = 0;
  #freed: PromiseWithResolvers<void> = Promise.withResolvers();

  /**
   * Creates the owner of the frame files (call {@linkcode FrameFiles.recount} before use).
   *
   * @param db The graph database (which tasks still need a frame).
   * @param data The data dir's layout.
   * @param options Logger, fault test and counters.
   */
  constructor(db: DatabaseSync, data: DataLayout, options: FrameFilesOptions) {
    this.#db = db;
    this.#data = data;
    this.#log = options.log;
    this.#isTransient = options.isTransient;
    this.#stats = options.stats;
  }

  /** Frames currently on disk. */
  get count(): number {
    return this.#count;
  }

  /** Counts the frames on disk (at start). */
  async recount(): Promise<void> {
    this.#count = await countFrames(this.#data.root);
  }

  /** Wakes whoever waits in {@linkcode FrameFiles.waitForSpace} (a task ended, or stopping). */
  freed(): void {
    this.#freed.resolve();
  }

  /** Waits until a frame is freed or a task ends, or 5 s pass. */
  async waitForSpace(): Promise<void> {
    this.#freed = Promise.withResolvers();
    await deadline(this.#freed.promise, 5000).catch(() => {});
  }

  /**
   * Writes a frame via a temp file and rename.
   *
   * @param path The frame file.
   * @param bytes The PPM bytes.
   * @returns False when the file existed already whole.
   */
  async write(path: string, bytes: Uint8Array): Promise<boolean> {
    const fresh = await writeFrameAtomic(path, bytes);
    if (fresh) this.#count++;
    return fresh;
  }

  /**
   * Deletes a frame file; one that cannot be deleted now (read-only for a
   * while) stays for the clip's clean-up or the next start's sweep.
   *
   * @param path The frame file.
   */
  async delete(path: string): Promise<void> {
    try {
      await Deno.remove(path);
      this.#count = Math.max(0, this.#count - 1);
      this.#stats.framesDeleted++;
      this.#freed.resolve();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      // Read-only for a while: the frame stays; the clip's clean-up or the
      // next start's sweep removes it.
      if (!this.#isTransient(err)) throw err;
      this.#log.debug("cannot delete frame now; left for the clean-up", {
        path,
        error: (err as Error).message,
      });
    }
  }

  /** Deletes frames on disk that no task needs (left by a crash). */
  async sweepOrphans(): Promise<void> {
    const root = this.#data.frames;
    for await (const dir of Deno.readDir(root)) {
      if (!dir.isDirectory) continue;
      const video = getVideo(this.#db, dir.name);
      if (video && (video.status === "queued" || video.status === "decoding")) {
        continue; // the decoder handles these
      }
      if (!video || video.status === "done" || video.status === "failed") {
        // Finished before the crash could tidy up: the same clean-up as at
        // completion (frames nobody needs, the folder, the crops).
        this.cleanClip(dir.name);
        continue;
      }
      const names: string[] = [];
      try {
        for await (const f of Deno.readDir(join(root, dir.name))) {
          names.push(f.name);
        }
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw err;
      }
      for (const name of names) {
        const ref = `${DATA_NAMES.frames}/${dir.name}/${name}`;
        if (
          name.endsWith(".tmp") ||
          frameUsers(this.#db, { ref, excludeTaskId: -1 }) === 0
        ) {
          await this.delete(join(root, dir.name, name));
        }
      }
    }
  }

  /**
   * The clean-up at a clip's end: its frames nobody needs, its frame folder
   * (kept when a failed task keeps its frame for inspection) and its crops.
   *
   * @param videoId The clip.
   */
  cleanClip(videoId: string): void {
    const dir = this.#data.framesOf(videoId);
    try {
      for (const f of Deno.readDirSync(dir)) {
        const ref = `${DATA_NAMES.frames}/${videoId}/${f.name}`;
        if (frameUsers(this.#db, { ref, excludeTaskId: -1 }) === 0) {
          Deno.removeSync(join(dir, f.name));
          this.#count = Math.max(0, this.#count - 1);
          this.#stats.framesDeleted++;
        }
      }
      Deno.removeSync(dir);
    } catch {
      // not empty (a failed task keeps its frame for inspection) or gone
    }
    // Plate crops were evidence candidates; the chosen ones are saved by now.
    try {
      Deno.removeSync(this.#data.cropsOf(videoId), { recursive: true });
    } catch { /* none */ }
    this.#freed.resolve();
  }
}

/** Writes a frame via a temp file and rename; false when the file existed already. */
async function writeFrameAtomic(
  path: string,
  bytes: Uint8Array,
): Promise<boolean> {
  let existed = false;
  try {
    const st = await Deno.stat(path);
    if (st.size === bytes.length) return false;
    existed = true; // truncated by a power cut: write it again
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const tmp = `${path}.tmp`;
  await writeDataFile(tmp, bytes);
  await Deno.rename(tmp, path);
  return !existed;
}
