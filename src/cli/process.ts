/**
 * `process CLIP… [--json]`: runs the whole graph on the clips and prints
 * their final events. Exit code 0 only if every clip finished.
 *
 * @module
 */
import {
  type ClipSubmission,
  type DataDirLock,
  Engine,
  lockDataDir,
  makeMissingModels,
  outboxSink,
  type Progress,
} from "../daemon/mod.ts";
import type { Config } from "../config/mod.ts";
import { log } from "../log/mod.ts";
import { openDataDirOutbox } from "../sink/mod.ts";
import { makeDataDir } from "../shared/mod.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";
import { shutdownSignal } from "./signals.ts";
import { formatEvent, formatNoPlates, localEventTime } from "./format.ts";
import { basename } from "node:path";

/** Usage text. */
export const USAGE =
  "process CLIP… [--json]  run the pipeline on clips and print their final events";

function progressBar(p: Progress): string {
  const frac = p.total ? p.finished / p.total : 0;
  const width = 30;
  const fill = Math.round(frac * width);
  return `\r[${"#".repeat(fill)}${" ".repeat(width - fill)}] ${
    (frac * 100).toFixed(0).padStart(3)
  }% tasks ${p.finished}/${p.total}, clips ${p.clipsDone}/${p.clips}`;
}

/**
 * Runs the command.
 *
 * @param args Arguments after `process`.
 * @returns The exit code.
 */
export async function runProcess(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {});
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(
      "process needs at least one clip: process CLIP… [--json]",
    );
  }
  const config = await configFromFlags(values);
  await makeMissingModels(config, {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
  });
  await makeDataDir(config.data_dir);
  // The lock comes first: a second process must change nothing.
  const lock = await lockDataDir(config.data_dir);
  try {
    return await processLocked(config, { values, positionals, lock });
  } finally {
    lock.release();
  }
}

async function processLocked(
  config: Config,
  options: {
    values: { json?: boolean };
    positionals: string[];
    lock: DataDirLock;
  },
): Promise<number> {
  const { values, positionals, lock } = options;
  const outbox = openDataDirOutbox(config.data_dir, { log });
  let engine: Engine;
  const subs: ClipSubmission[] = [];
  try {
    engine = await Engine.open(config, {
      log,
      lock,
      sink: outboxSink(outbox, { log }),
      // Hashing, probing and decoding the first clip overlap model loading.
      whileWorkersLoad: async (engine) => {
        for (const clip of positionals) subs.push(await engine.addClip(clip));
      },
    });
  } catch (err) {
    outbox.close();
    throw err;
  }
  const stop = { signal: shutdownSignal };
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const ids = subs.flatMap((s) => (s.videoId ? [s.videoId] : []));
    const tty = Deno.stderr.isTerminal() && !values.json;
    if (tty) {
      timer = setInterval(() => {
        Deno.stderr.writeSync(
          new TextEncoder().encode(progressBar(engine.progress(ids))),
        );
      }, 250);
    }
    let videos;
    try {
      videos = await engine.waitFor(ids, { signal: stop.signal });
    } catch (err) {
      if (stop.signal.aborted) {
        log.warn("interrupted; unfinished clips resume on the next start");
        return 130;
      }
      throw err;
    }
    if (tty) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    // Every segment of the call is in: tracks held at the end of the last
    // segment of each camera are reported now (the daemon waits hold_s).
    engine.releaseHeld(ids);
    const wanted = new Set(ids);
    const events = outbox.query({ limit: 1_000_000 })
      .filter((e) => wanted.has(e.videoId))
      .sort((a, b) =>
        (a.clip ?? a.videoId).localeCompare(b.clip ?? b.videoId) ||
        a.videoId.localeCompare(b.videoId) || a.trackId - b.trackId
      );
    const cameras = config.cameras;
    for (const e of events) {
      console.log(
        values.json
          ? JSON.stringify({ ...e, localTime: localEventTime(e, { cameras }) })
          : formatEvent(e, { cameras }),
      );
    }
    // A clip that gave no plate says so in one line (its cars may also be
    // reported under a neighbouring segment's event: those count as plates).
    for (const v of videos) {
      if (v.status !== "done" || (v.plates_found ?? 1) > 0) continue;
      const clip = v.source_name ?? basename(v.path);
      console.log(
        values.json
          ? JSON.stringify({ clip, videoId: v.video_id, events: 0 })
          : formatNoPlates(clip),
      );
    }
    let ok = true;
    for (const v of videos) {
      if (v.status !== "done") {
        ok = false;
        if (!values.json) console.error(`failed: ${v.path}: ${v.error}`);
      } else if (v.error) {
        console.error(`warning: ${v.path}: ${v.error}`);
      }
    }
    return ok ? 0 : 1;
  } finally {
    clearInterval(timer);
    await engine.close({ deadlineMs: 5000 });
    outbox.close();
  }
}
