/**
 * The daemon's intake: watches the inbox folders, holds intake while the
 * task queue is over `daemon.max_queued_tasks` (back-pressure), spools each
 * settled clip (a copy off removable media, refused below
 * `inbox.min_free_mb`), submits it to the engine, and once the clip is done
 * removes the spooled copy (and the original when
 * `inbox.delete_originals`). A clip failed for good loses its spooled copy,
 * not its record.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { intakeBacklog } from "../graph/mod.ts";
import { InboxWatcher, isRemovablePath, spoolClip } from "../ingest/mod.ts";
import type { Logger } from "../log/mod.ts";
import { sleep } from "../shared/mod.ts";
import type { Engine } from "./engine.ts";

/** Options for {@linkcode startInboxIntake}. */
export interface InboxIntakeOptions {
  /** The configuration (`inbox_dirs`, `inbox.*`, `daemon.max_queued_tasks`). */
  config: Config;
  /** The spool folder (exists). */
  spoolDir: string;
  /** Logger. */
  log: Logger;
  /** Stops intake at once when aborted (the daemon's stop signal). */
  signal?: AbortSignal;
}

/** A running intake. */
export interface InboxIntake {
  /** Stops taking clips: waits on the back-pressure and spooling end, the watcher closes. */
  close(): Promise<void>;
}

/**
 * Starts watching the inbox and feeding clips to the engine.
 *
 * @param engine The running engine.
 * @param options See {@linkcode InboxIntakeOptions}.
 * @returns The running intake.
 */
export function startInboxIntake(
  engine: Engine,
  options: InboxIntakeOptions,
): InboxIntake {
  const { config, spoolDir, log } = options;
  const intake = new AbortController();
  options.signal?.addEventListener("abort", () => intake.abort(), {
    once: true,
  });
  let lowDiskWarned = false;
  const watcher = new InboxWatcher({
    dirs: config.inbox_dirs,
    settleMs: config.inbox.settle_s * 1000,
    rescanMs: config.inbox.rescan_s * 1000,
    log,
    onClip: async (path) => {
      // Back-pressure: hold intake while the task queue is over its bound
      // (frames of clips not decoded yet count: they are tasks to come).
      while (
        !intake.signal.aborted &&
        intakeBacklog(engine.db) > config.daemon.max_queued_tasks
      ) {
        await sleep(500, { signal: intake.signal });
      }
      if (intake.signal.aborted) throw new Error("shutting down");
      const spooled = await spoolClip(path, {
        spoolDir,
        removable: isRemovablePath(path, config.inbox.removable_prefixes),
        minFreeBytes: config.inbox.min_free_mb * 2 ** 20,
        signal: intake.signal,
      });
      if (spooled.kind === "refused") {
        if (!lowDiskWarned) log.warn(spooled.reason);
        lowDiskWarned = true;
        throw new Error(spooled.reason); // offered again on a later rescan
      }
      lowDiskWarned = false;
      const sub = await engine.addClip(spooled.path, { originalName: path });
      if (sub.state === "new") {
        log.info("clip taken", { path, video: sub.videoId });
      } else if (sub.state === "known") {
        log.debug("clip seen before", { path, video: sub.videoId });
      }
      // A clip failed for good (its own fault) keeps its record, not its
      // spooled copy: every bad clip on a stick would cost its size.
      const dropSpooled = async () => {
        if (spooled.kind !== "spooled") return;
        await Deno.remove(spooled.path).then(
          () => log.info("spooled copy of a failed clip removed", { path }),
          () => {/* already gone */},
        );
      };
      if (sub.videoId && sub.status === "failed") {
        if (engine.failedForGood(sub.videoId)) await dropSpooled();
      } else if (sub.videoId) {
        // Once its events are in the outbox, the spooled copy goes, and the
        // original too when the config asks for it (never before).
        engine.waitFor([sub.videoId], { signal: intake.signal }).then(
          async ([video]) => {
            if (video?.status === "failed") {
              if (engine.failedForGood(video.video_id)) await dropSpooled();
              return;
            }
            if (video?.status !== "done") return;
            if (spooled.kind === "spooled") {
              await Deno.remove(spooled.path).catch(() => {});
            }
            if (config.inbox.delete_originals) {
              await Deno.remove(path).then(
                () => log.info("original clip deleted", { path }),
                (err) =>
                  log.warn("cannot delete original clip", {
                    path,
                    error: err.message,
                  }),
              );
            }
          },
        ).catch(() => {/* shutting down */});
      }
    },
  });
  watcher.start();
  return {
    async close() {
      intake.abort();
      await watcher.close();
    },
  };
}
