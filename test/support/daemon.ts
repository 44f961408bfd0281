/**
 * Driving the daemon (`run`) as a subprocess on temp dirs, for tests and the
 * power-cut bench.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { makeTestClip } from "./clips.ts";
import { dashcamCommand } from "./cli.ts";
import { writeTrivialConfig } from "./config.ts";

/** Temp dirs and config of one daemon. */
export interface Setup {
  root: string;
  inbox: string;
  dataDir: string;
  config: string;
}

/** Makes an inbox, a data dir and a config using the trivial handlers. */
export async function setup(
  extra: Record<string, unknown> = {},
): Promise<Setup> {
  const root = await Deno.makeTempDir();
  const inbox = join(root, "inbox");
  await Deno.mkdir(inbox);
  const dataDir = join(root, "data");
  const config = await writeTrivialConfig(root, {
    inbox_dirs: [inbox],
    log_level: "info",
    inbox: { settle_s: 0.5, rescan_s: 0.5 },
    graph: { poll_ms: 10, retry_backoff_ms: 10, keep_finished: true },
    ...extra,
  });
  return { root, inbox, dataDir, config };
}

/** Runs a read-only query on pipeline.db ([] before it exists). */
export function query<T>(dataDir: string, sql: string): T[] {
  try {
    const db = new DatabaseSync(join(dataDir, "pipeline.db"), {
      readOnly: true,
    });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  } catch {
    return []; // not created yet
  }
}

/** Clips done. */
export function doneCount(dataDir: string): number {
  return query<{ n: number }>(
    dataDir,
    "SELECT COUNT(*) AS n FROM video_metadata WHERE status = 'done'",
  )[0]?.n ?? 0;
}

/** Results written. */
export function resultCount(dataDir: string): number {
  return query<{ n: number }>(dataDir, "SELECT COUNT(*) AS n FROM results")[0]
    ?.n ?? 0;
}

/** The outbox's events as sorted JSON rows. */
export function events(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, "outbox.db"), { readOnly: true });
  try {
    return db.prepare(
      "SELECT event_key, final_plate, frame_idx, ts FROM events",
    ).all()
      .map((r) => JSON.stringify(Object.values(r))).sort();
  } finally {
    db.close();
  }
}

/** Polls `cond` until true; fails when the daemon exits first or after `limitMs`. */
export async function until(
  cond: () => boolean,
  child: Deno.ChildProcess,
  limitMs = 90_000,
): Promise<boolean> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && !exited) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

/** Sends SIGTERM and waits up to `limitMs` for the exit. */
export async function stopWithSigterm(
  daemon: Daemon,
  limitMs: number,
): Promise<Deno.CommandStatus> {
  const child = daemon.child;
  assert.ok(await daemon.ready, "daemon started");
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((r) => timer = setTimeout(() => r(null), limitMs)),
  ]);
  clearTimeout(timer);
  if (status === null) {
    child.kill("SIGKILL");
    await child.status;
    assert.fail(`daemon did not exit within ${limitMs} ms of SIGTERM`);
  }
  return status;
}

/** Starts `run` with the setup's config. */
export function startDaemon(
  s: Setup,
  env: Record<string, string> = {},
): Daemon {
  const child = dashcamCommand(["run", "--config", s.config], { env }).spawn();
  child.stdout.cancel();
  const ready = Promise.withResolvers<boolean>();
  const stderr = (async () => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("dashcam running")) ready.resolve(true);
    }
    ready.resolve(false);
    return text;
  })();
  return { child, stderr, ready: ready.promise };
}

/** A running daemon. */
export interface Daemon {
  /** The process. */
  child: Deno.ChildProcess;
  /** All of stderr, once it closes. */
  stderr: Promise<string>;
  /** Resolves when the daemon logged that it is running (false if it exited first). */
  ready: Promise<boolean>;
}

/**
 * Puts the same three short test clips into two daemons' inboxes, with the
 * same mtime on both copies (it is the clips' start time: no creation_time).
 *
 * @param a First daemon's setup.
 * @param b Second daemon's setup.
 * @param options Clip length.
 */
export async function sameClipsInBoth(
  a: Setup,
  b: Setup,
  options: { durationS: number },
): Promise<void> {
  for (const [i, src] of ["testsrc", "testsrc2", "smptebars"].entries()) {
    const clip = await makeTestClip(a.root, `c${i}.mp4`, {
      durationS: options.durationS,
      source: src,
    });
    const t = new Date(Date.UTC(2026, 0, 2, 3, 4, 5 + i));
    for (const s of [a, b]) {
      await Deno.copyFile(clip, join(s.inbox, `c${i}.mp4`));
      await Deno.utime(join(s.inbox, `c${i}.mp4`), t, t);
    }
  }
}

/** Counts tasks that exist twice for one (category, video_id, frame_idx, track_id). */
export function duplicateTasks(dataDir: string): number {
  return query<{ n: number }>(
    dataDir,
    `SELECT COUNT(*) AS n FROM (SELECT 1 FROM tasks
       GROUP BY category, video_id, frame_idx, track_id HAVING COUNT(*) > 1)`,
  )[0].n;
}

/** Outcome of {@linkcode powerCuts}. */
export interface PowerCutOutcome {
  /** Rounds whose daemon died by SIGKILL. */
  kills: number;
  /** Kills that came while clips were still unfinished. */
  inFlight: number;
}

/**
 * Kills `run` with SIGKILL `rounds` times. Round k waits until the k-th
 * slice of the work is done (a random point inside it), so the kills are
 * spread over the whole processing instead of bunching after the end.
 *
 * @param s The daemon's setup (clips already in its inbox).
 * @param options Rounds, the progress an uninterrupted run ends at (in
 * results), clips, randomness, and how progress is read (results written
 * by default; with pruning, a measure that survives it).
 * @returns Kill counts.
 */
export async function powerCuts(
  s: Setup,
  options: {
    rounds: number;
    totalResults: number;
    clips: number;
    random: () => number;
    progress?: (dataDir: string) => number;
  },
): Promise<PowerCutOutcome> {
  const { rounds, totalResults, clips, random } = options;
  const progress = options.progress ?? resultCount;
  const slice = totalResults / (rounds + 1);
  let kills = 0;
  let inFlight = 0;
  for (let round = 0; round < rounds; round++) {
    const d = startDaemon(s, { TRIVIAL_DELAY_MS: "5" });
    const target = Math.floor(slice * (round + 0.5 + random()));
    await until(
      () => progress(s.dataDir) >= target || doneCount(s.dataDir) === clips,
      d.child,
    );
    if (doneCount(s.dataDir) < clips) inFlight++;
    d.child.kill("SIGKILL");
    if ((await d.child.status).signal === "SIGKILL") kills++;
    await d.stderr;
  }
  return { kills, inFlight };
}
