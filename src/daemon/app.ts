/**
 * The appliance daemon (`run`). Start order: data-dir lock (before
 * anything is touched), spool clean-up and outbox, engine (crash recovery,
 * models, workers), fleet sync, inbox watcher, then
 * `READY=1`. On SIGTERM/SIGINT the order reverses: stop taking clips, stop
 * claiming tasks (running ones get `daemon.shutdown_deadline_s`, then are
 * released), one last sync, WAL checkpoint, exit 0.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import { InboxWatcher } from "../ingest/watch.ts";
import {
  isRemovablePath,
  removeSpoolTemps,
  spoolClip,
} from "../ingest/spool.ts";
import { graphStatus, queuedTaskCount } from "../graph/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  checkFleet,
  closePg,
  connectFleet,
  openDataDirOutbox,
  type Outbox,
  SyncLoop,
  syncOnce,
} from "../sink/mod.ts";
import { Engine } from "./engine.ts";
import { outboxSink } from "./event_sink.ts";
import {
  type MetricsSnapshot,
  renderHealth,
  renderMetrics,
} from "./metrics.ts";
import { notify, watchdogIntervalMs } from "./sd_notify.ts";
import { type DataDirLock, lockDataDir } from "./data_lock.ts";
import { makeDataDir } from "../shared/data_fs.ts";

/** Options for {@linkcode runDaemon}. */
export interface RunDaemonOptions {
  /** Logger. */
  log: Logger;
  /** Ends the daemon (the CLI wires SIGTERM and SIGINT to it). */
  signal: AbortSignal;
}

/**
 * Deletes synced events older than `days`, and their evidence crops.
 *
 * @param outbox The outbox.
 * @param options Data dir, age and logger.
 * @returns Events deleted.
 */
export function pruneSynced(
  outbox: Outbox,
  options: { dataDir: string; days: number; log: Logger },
): number {
  const before = new Date(Date.now() - options.days * 86_400_000).toISOString();
  const { deleted, evidence } = outbox.pruneSent(before);
  for (const path of evidence) {
    if (path.includes("..")) continue;
    try {
      Deno.removeSync(join(options.dataDir, path));
    } catch { /* already gone */ }
  }
  if (deleted > 0) {
    options.log.info("pruned synced events", {
      events: deleted,
      older_than: before,
    });
  }
  return deleted;
}

/** What the health endpoint reports, read fresh from the databases. */
function snapshot(engine: Engine, outbox: Outbox): MetricsSnapshot {
  const graph = graphStatus(engine.db);
  const box = outbox.stats();
  return {
    dispatcherAgeMs: performance.now() - engine.lastTickAt,
    clips: graph.videos,
    tasks: graph.tasks,
    unhandledResults: graph.unhandledResults,
    framesOnDisk: engine.framesOnDisk,
    outboxPending: box.pending,
    outboxRejected: box.rejected,
    lastSyncAt: box.lastSuccessAt,
    busyMs: engine.pool.busyMs as Record<string, number>,
    finished: { ...engine.pool.counters },
  };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Runs the daemon until `signal` aborts.
 *
 * @param config The configuration.
 * @param options Logger and stop signal.
 * @returns The exit code (0 after a clean stop).
 */
export async function runDaemon(
  config: Config,
  options: RunDaemonOptions,
): Promise<number> {
  await makeDataDir(config.data_dir);
  // The lock comes first: a second process must change nothing.
  const lock = await lockDataDir(config.data_dir);
  try {
    return await runLocked(config, { ...options, lock });
  } finally {
    lock.release();
  }
}

async function runLocked(
  config: Config,
  options: RunDaemonOptions & { lock: DataDirLock },
): Promise<number> {
  const { log, signal, lock } = options;
  const spoolDir = join(config.data_dir, "spool");
  await makeDataDir(spoolDir);
  await removeSpoolTemps(spoolDir);
  const outbox = openDataDirOutbox(config.data_dir, { log });
  let sync: SyncLoop | null = null;
  let engine: Engine;
  try {
    engine = await Engine.open(config, {
      log,
      lock,
      sink: outboxSink(outbox, { log, onEvent: () => sync?.kick() }),
    });
  } catch (err) {
    outbox.close();
    throw err;
  }
  const sql = config.pg.url ? connectFleet(config.pg, { log }) : null;
  if (sql) {
    let lastPrune = 0;
    sync = new SyncLoop(outbox, sql, {
      deviceId: config.pg.device_id,
      batchSize: config.pg.batch_size,
      intervalMs: config.daemon.sync_interval_s * 1000,
      log,
      onPass: (outcome) => {
        // Retention: at most hourly, after a good pass.
        if (!outcome.ok || config.daemon.retention_days <= 0) return;
        if (Date.now() - lastPrune < 3_600_000) return;
        lastPrune = Date.now();
        pruneSynced(outbox, {
          dataDir: config.data_dir,
          days: config.daemon.retention_days,
          log,
        });
      },
      prepare: async () => {
        await checkFleet(sql, { pg: config.pg });
      },
    });
    sync.start();
  } else {
    log.info("pg.url not set: events stay in the local outbox");
  }

  const intake = new AbortController();
  const stopIntake = () => intake.abort();
  signal.addEventListener("abort", stopIntake, { once: true });
  let lowDiskWarned = false;
  const watcher = new InboxWatcher({
    dirs: config.inbox_dirs,
    settleMs: config.inbox.settle_s * 1000,
    rescanMs: config.inbox.rescan_s * 1000,
    log,
    onClip: async (path) => {
      // Back-pressure: hold intake while the task queue is over its bound.
      while (
        !intake.signal.aborted &&
        queuedTaskCount(engine.db) > config.daemon.max_queued_tasks
      ) {
        await abortableDelay(500, intake.signal);
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
      if (sub.videoId && sub.state !== "failed") {
        // Once its events are in the outbox, the spooled copy goes, and the
        // original too when the config asks for it (never before).
        engine.waitFor([sub.videoId], { signal: intake.signal }).then(
          async ([video]) => {
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

  const health = config.daemon.health_port > 0
    ? Deno.serve({
      hostname: "127.0.0.1",
      port: config.daemon.health_port,
      onListen: ({ port }) =>
        log.info("health endpoint listening", {
          url: `http://127.0.0.1:${port}`,
        }),
    }, (req) => {
      const url = new URL(req.url);
      const snap = snapshot(engine, outbox);
      if (url.pathname === "/health") {
        const h = renderHealth(snap);
        return new Response(h.body, {
          status: h.status,
          headers: { "content-type": "application/json" },
        });
      }
      if (url.pathname === "/metrics") {
        return new Response(renderMetrics(snap), {
          headers: { "content-type": "text/plain; version=0.0.4" },
        });
      }
      return new Response("not found\n", { status: 404 });
    })
    : null;

  await notify("READY=1\nSTATUS=processing clips");
  log.info("dashcam running", {
    data_dir: config.data_dir,
    inbox: config.inbox_dirs.join(",") || "none",
    sync: sql ? "on" : "off",
  });
  const keepAliveMs = watchdogIntervalMs();
  const keepAlive = keepAliveMs
    ? setInterval(() => {
      // Ping only while the dispatcher goes round: a wedged engine misses
      // its pings and systemd restarts the service.
      const sinceTick = performance.now() - engine.lastTickAt;
      if (sinceTick < Math.max(keepAliveMs, 10_000)) notify("WATCHDOG=1");
      else {log.warn("dispatcher silent; watchdog ping withheld", {
          silent_ms: Math.round(sinceTick),
        });}
    }, keepAliveMs)
    : undefined;

  const outcome = await Promise.race([
    new Promise<"stop">((resolve) => {
      if (signal.aborted) return resolve("stop");
      signal.addEventListener("abort", () => resolve("stop"), { once: true });
    }),
    engine.failed.catch((err: Error) => err),
  ]);
  if (outcome instanceof Error) {
    // Leave the state as it is (nothing captured is lost) and let systemd
    // restart us; the next start recovers the leases.
    clearInterval(keepAlive);
    intake.abort();
    await health?.shutdown();
    await watcher.close();
    await sync?.stop();
    if (sql) await closePg(sql, 2000);
    await engine.close({ deadlineMs: 2000 }).catch(() => {});
    outbox.close();
    return 1;
  }

  log.info("stopping");
  await notify("STOPPING=1");
  await health?.shutdown();
  clearInterval(keepAlive);
  await watcher.close();
  await engine.close({ deadlineMs: config.daemon.shutdown_deadline_s * 1000 });
  if (sync && sql) {
    await sync.stop();
    try {
      const last = await Promise.race([
        syncOnce(outbox, sql, {
          deviceId: config.pg.device_id,
          batchSize: config.pg.batch_size,
          log,
          pullAlerts: false,
        }),
        abortableDelay(5000, AbortSignal.timeout(5000)).then(() => null),
      ]);
      if (last && last.sent > 0) {
        log.info("last sync before stop", { sent: last.sent });
      }
    } catch (err) {
      log.info("last sync skipped; events stay in the outbox", {
        error: (err as Error).message.split("\n")[0],
      });
    }
    await closePg(sql, 2000);
  }
  outbox.close();
  log.info("stopped");
  return 0;
}
