/**
 * The appliance daemon (`run`) as a start/stop table: each step starts in
 * the order of {@linkcode runDaemon}'s table and stops in the reverse
 * order. Start: data-dir lock (before anything is touched), spool
 * clean-up, outbox, fleet connection, engine (crash recovery, models,
 * workers), sync loop, inbox intake, JS heap trim, health endpoint,
 * watchdog, then `READY=1`. On SIGTERM/SIGINT: stop taking clips, stop the
 * sync loop, stop claiming tasks (running ones get
 * `daemon.shutdown_deadline_s`, then are released), one last sync, WAL
 * checkpoint, exit 0. When the engine fails, the same steps stop without
 * the last sync and the daemon exits 1 (systemd restarts it; the next
 * start recovers the leases).
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { removeSpoolTemps } from "../ingest/mod.ts";
import type { Logger } from "../log/mod.ts";
import { openDataDirOutbox, type Outbox } from "../sink/mod.ts";
import {
  arenaMaxSet,
  arenaWarning,
  dataLayout,
  type HeapTrim,
  heapTrimWarning,
  makeDataDir,
  MALLOC_ARENAS,
  mallocStats,
  startHeapTrim,
} from "../shared/mod.ts";
import { Engine } from "./engine.ts";
import { outboxSink } from "./event_sink.ts";
import { notify } from "./sd_notify.ts";
import { type DataDirLock, lockDataDir } from "./data_lock.ts";
import { type FleetSync, fleetSync } from "./fleet_sync.ts";
import { type InboxIntake, startInboxIntake } from "./inbox_intake.ts";
import { startHealthServer } from "./health_server.ts";
import { startWatchdog } from "./watchdog.ts";

export { pruneSynced } from "./retention.ts";

/** Options for {@linkcode runDaemon}. */
export interface RunDaemonOptions {
  /** Logger. */
  log: Logger;
  /** Ends the daemon (the CLI wires SIGTERM and SIGINT to it). */
  signal: AbortSignal;
}

/** One row of the start/stop table. */
interface Step {
  /** What it is (for reading the table). */
  name: string;
  /** Starts it; a throw stops the steps already started, in reverse. */
  start(): Promise<void> | void;
  /** Stops it; `failed` when the engine failed (stop fast, no last sync). */
  stop(how: { failed: boolean }): Promise<void> | void;
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
  const { log, signal } = options;
  const data = dataLayout(config.data_dir);
  let lock: DataDirLock;
  let outbox: Outbox;
  let fleet: FleetSync;
  let engine: Engine;
  let intake: InboxIntake;
  let health: Deno.HttpServer | null = null;
  let stopWatchdog = () => {};
  let trim: HeapTrim;

  const table: Step[] = [
    {
      // The lock comes first: a second process must change nothing.
      name: "data-dir lock",
      start: async () => {
        await makeDataDir(data.root);
        lock = await lockDataDir(data.root);
      },
      stop: () => lock.release(),
    },
    {
      name: "spool clean-up",
      start: async () => {
        await makeDataDir(data.spool);
        await removeSpoolTemps(data.spool);
      },
      stop: () => {},
    },
    {
      name: "outbox",
      start: () => {
        outbox = openDataDirOutbox(data.root, { log });
      },
      stop: () => outbox.close(),
    },
    {
      name: "fleet connection (last sync at stop)",
      start: () => {
        fleet = fleetSync(outbox, { config, log });
      },
      stop: ({ failed }) => fleet.finish({ lastSync: !failed }),
    },
    {
      name: "engine",
      start: async () => {
        engine = await Engine.open(config, {
          log,
          lock,
          sink: outboxSink(outbox, { log, onEvent: () => fleet.kick() }),
        });
      },
      stop: async ({ failed }) => {
        if (failed) {
          await engine.close({ deadlineMs: 2000 }).catch(() => {});
        } else {
          await engine.close({
            deadlineMs: config.daemon.shutdown_deadline_s * 1000,
          });
        }
      },
    },
    {
      name: "sync loop",
      start: () => fleet.start(),
      stop: () => fleet.stop(),
    },
    {
      name: "inbox intake",
      start: () => {
        intake = startInboxIntake(engine, {
          config,
          spoolDir: data.spool,
          log,
          signal,
        });
      },
      stop: () => intake.close(),
    },
    {
      // The main thread's garbage; each stage worker trims its own.
      name: "JS heap trim",
      start: () => {
        trim = startHeapTrim();
      },
      stop: () => trim.stop(),
    },
    {
      name: "health endpoint",
      start: () => {
        health = startHealthServer(engine, {
          outbox,
          port: config.daemon.health_port,
          log,
          heapTrim: trim.trimmer,
        });
      },
      stop: async () => {
        await health?.shutdown();
      },
    },
    {
      name: "watchdog",
      start: () => {
        stopWatchdog = startWatchdog(() => engine.lastTickAt, { log });
      },
      stop: () => stopWatchdog(),
    },
  ];

  const started: Step[] = [];
  // Every started step stops, even when one before it throws (the lock is
  // always released); the first error is thrown at the end.
  const stopAll = async (how: { failed: boolean }) => {
    let first: unknown = null;
    for (const step of started.reverse()) {
      try {
        await step.stop(how);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== null) throw first;
  };
  try {
    for (const step of table) {
      await step.start();
      started.push(step);
    }
  } catch (err) {
    await stopAll({ failed: true });
    throw err;
  }

  await notify("READY=1\nSTATUS=processing clips");
  log.info("dashcam running", {
    data_dir: config.data_dir,
    inbox: config.inbox_dirs.join(",") || "none",
    sync: fleet!.enabled ? "on" : "off",
  });
  // The workers and their sessions are up: every thread that mallocs has
  // its arena by now.
  const arenas = arenaWarning(mallocStats(), {
    cap: MALLOC_ARENAS,
    userSet: arenaMaxSet(),
  });
  if (arenas) log.warn(arenas);
  const heapTrim = heapTrimWarning(trim!.trimmer);
  if (heapTrim) log.warn(heapTrim);

  const outcome = await Promise.race([
    new Promise<"stop">((resolve) => {
      if (signal.aborted) return resolve("stop");
      signal.addEventListener("abort", () => resolve("stop"), { once: true });
    }),
    engine!.failed.catch((err: Error) => err),
  ]);
  if (outcome instanceof Error) {
    // Leave the state as it is (nothing captured is lost) and let systemd
    // restart us; the next start recovers the leases.
    await stopAll({ failed: true });
    return 1;
  }
  log.info("stopping");
  await notify("STOPPING=1");
  await stopAll({ failed: false });
  log.info("stopped");
  return 0;
}
