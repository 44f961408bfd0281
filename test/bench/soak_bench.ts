/**
 * `deno task bench soak [--minutes N] [--sample-s S] [--clip-every-s C]`:
 * runs the real daemon (`main.ts run`, default config and workers, the vision
 * stages and the models in `../shared/models`) twice side by side for N
 * minutes (default 60): one idle, one given a new clip in its inbox every
 * C seconds (default 60; the media clips of `../shared/media/clips` in turn,
 * each re-muxed with a unique tag so every copy is a new clip). It samples
 * the RSS (VmRSS, read with `ps`) of each daemon and of the daemon with
 * its children (ffmpeg) every S seconds (default 15), prints them as lines
 * while it runs, and ends with a table: RSS at start, 10 min, 60 min (or
 * the nearest sample before) and the end, the peak, and the slope in MB/h
 * by least squares after a warm-up (`--warmup-min`, default 10 min or a
 * quarter of a shorter run). The clock starts when both daemons have logged
 * `dashcam running`. With `--keep`, the data dirs and `daemon.log` stay.
 * `--v8-flags A,B` adds V8 flags to both daemons' own; with `--trace-gc` the
 * bench also prints each isolate's JS heap after its full GCs (read from
 * `daemon.log`, see `gc_trace.ts`), to tell a growing JS heap from native
 * memory, with how many of them the heap trim asked for and the most heap
 * before one (the top of the garbage sawtooth).
 *
 * Issue 9, item 1: an idle daemon grew by about 1.3 MB/s before each
 * statement was prepared once per connection. Goal: flat after warm-up and
 * under 400 MB with the default workers.
 *
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { DASHCAM_ENV, DASHCAM_FLAGS, MAIN } from "../support/cli.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";
import { fmt, table } from "./_util.ts";
import { fullGcs, heapTrends } from "./gc_trace.ts";

/** Options for {@linkcode soakBench}. */
export interface SoakOptions {
  /** Length of the run in minutes. @default {60} */
  minutes?: number;
  /** Seconds between RSS samples. @default {15} */
  sampleS?: number;
  /** Seconds between clips given to the loaded daemon. @default {60} */
  clipEveryS?: number;
  /** Minutes left out of the slope (start-up, model loading, first GCs). @default {min(10, minutes / 4)} */
  warmupMin?: number;
  /** Keep the temp dirs (data dirs, logs) for inspection. @default {false} */
  keep?: boolean;
  /** V8 flags added to the daemons' own, comma-separated (`--trace-gc`). @default {""} */
  v8Flags?: string;
}

/** One RSS sample, in MiB. */
interface Sample {
  /** Minutes since the daemons started. */
  min: number;
  /** The daemon process. */
  rss: number;
  /** The daemon and its child processes. */
  total: number;
}

/** A daemon under observation. */
interface Soaked {
  name: string;
  root: string;
  inbox: string;
  child: Deno.ChildProcess;
  samples: Sample[];
  clips: number;
}

/**
 * Parses the section's flags.
 *
 * @param args Arguments after `soak`.
 * @returns The options.
 * @throws {RangeError} On a value that is not a positive number.
 */
export function parseSoakArgs(args: string[]): SoakOptions {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: "string" },
      "sample-s": { type: "string" },
      "clip-every-s": { type: "string" },
      "warmup-min": { type: "string" },
      keep: { type: "boolean" },
      "v8-flags": { type: "string" },
    },
    strict: true,
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      throw new RangeError(
        `Cannot run the soak bench as '--${name}' must be a positive number: current value is ${v}`,
      );
    }
    return n;
  };
  return {
    minutes: num("minutes", values.minutes),
    sampleS: num("sample-s", values["sample-s"]),
    clipEveryS: num("clip-every-s", values["clip-every-s"]),
    warmupMin: num("warmup-min", values["warmup-min"]),
    keep: values.keep ?? false,
    v8Flags: values["v8-flags"] ?? "",
  };
}

/** One line of `ps`: pid, parent, resident set (VmRSS) in MiB. */
interface Proc {
  pid: number;
  ppid: number;
  rss: number;
}

/**
 * Every process with its parent and RSS, from `ps` (reading `/proc` as a
 * whole needs `--allow-all`; the bench task allows running programs).
 *
 * @returns The processes.
 */
async function processes(): Promise<Proc[]> {
  const out = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,rss="],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => {
    const [pid, ppid, rss] = l.trim().split(/\s+/).map(Number);
    return { pid, ppid, rss: rss / 1024 };
  });
}

/**
 * RSS of `pid` and of `pid` with all its descendants, in MiB.
 *
 * @param procs The process table.
 * @param pid The root.
 * @returns NaN for a process that is gone.
 */
function treeRss(procs: Proc[], pid: number): { rss: number; total: number } {
  const root = procs.find((p) => p.pid === pid);
  if (!root) return { rss: NaN, total: NaN };
  let total = root.rss;
  let frontier = [pid];
  while (frontier.length) {
    const next = procs.filter((p) => frontier.includes(p.ppid));
    for (const p of next) total += p.rss;
    frontier = next.map((p) => p.pid);
  }
  return { rss: root.rss, total };
}

/**
 * Least-squares slope of `y` over `x`.
 *
 * @param xs X values.
 * @param ys Y values.
 * @returns Slope (NaN for fewer than two points).
 */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** The media clips, in a fixed order. */
function mediaClips(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (
      const e of [...Deno.readDirSync(dir)].sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      const p = join(dir, e.name);
      if (e.isDirectory) walk(p);
      else if (/\.(mp4|avi|mov|mkv)$/i.test(e.name)) out.push(p);
    }
  };
  walk(join(SHARED_MEDIA, "clips"));
  if (out.length === 0) {
    throw new Error(
      `Cannot run the soak bench: no clip in ${SHARED_MEDIA}/clips`,
    );
  }
  return out;
}

/** Writes a config and starts `run` on it. */
async function startSoaked(name: string, v8Flags: string): Promise<Soaked> {
  const root = await Deno.makeTempDir({ prefix: `soak_${name}_` });
  const inbox = join(root, "inbox");
  await Deno.mkdir(inbox);
  const config = join(root, "dashcam.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      data_dir: join(root, "data"),
      models_dir: TEST_MODELS,
      inbox_dirs: [inbox],
      log_level: "info",
    }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...DASHCAM_FLAGS.map((f) =>
        f.startsWith("--v8-flags=") && v8Flags ? `${f},${v8Flags}` : f
      ),
      MAIN,
      "run",
      "--config",
      config,
    ],
    env: { XDG_RUNTIME_DIR: "/tmp", ...DASHCAM_ENV },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Drain both pipes to a log file (a full pipe would stall the daemon).
  const log = await Deno.open(join(root, "daemon.log"), {
    create: true,
    write: true,
    append: true,
  });
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      let done = 0;
      while (done < chunk.length) done += await log.write(chunk.subarray(done));
    }
  };
  Promise.all([drain(child.stdout), drain(child.stderr)]).finally(() =>
    log.close()
  );
  return { name, root, inbox, child, samples: [], clips: 0 };
}

/** Copies clip `n` into the inbox as a new clip (unique tag, same frames). */
async function feedClip(s: Soaked, sources: string[]): Promise<void> {
  const src = sources[s.clips % sources.length];
  const ext = src.slice(src.lastIndexOf("."));
  const name = `soak_${String(s.clips).padStart(4, "0")}${ext}`;
  const tmp = join(s.root, name);
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-y",
      "-i",
      src,
      "-map",
      "0",
      "-c",
      "copy",
      "-metadata",
      `comment=soak ${s.clips} ${crypto.randomUUID()}`,
      tmp,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot copy ${src} for the soak bench: ${
        new TextDecoder().decode(out.stderr).split("\n")[0]
      }`,
    );
  }
  await Deno.rename(tmp, join(s.inbox, name)); // appears whole in the inbox
  s.clips++;
}

function sample(s: Soaked, procs: Proc[], min: number): Sample {
  const x = { min, ...treeRss(procs, s.child.pid) };
  s.samples.push(x);
  return x;
}

/** The daemon's log so far. */
async function logText(s: Soaked): Promise<string> {
  return await Deno.readTextFile(join(s.root, "daemon.log")).catch(() => "");
}

/** The clips' statuses in the daemon's pipeline.db, e.g. `done 59, decoding 1`. */
function clipOutcome(s: Soaked): string {
  try {
    const db = new DatabaseSync(join(s.root, "data", "pipeline.db"), {
      readOnly: true,
    });
    try {
      const rows = db.prepare(
        "SELECT status, COUNT(*) AS n FROM video_metadata GROUP BY status ORDER BY status",
      ).all() as Array<{ status: string; n: number }>;
      return rows.map((r) => `${r.status} ${r.n}`).join(", ") || "none";
    } finally {
      db.close();
    }
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

/** The sample nearest to `min` minutes (not after the end). */
function at(samples: Sample[], min: number): Sample | undefined {
  let best: Sample | undefined;
  for (const x of samples) {
    if (x.min > min + 1e-9) break;
    best = x;
  }
  return best;
}

/** Runs the soak and prints its table. */
export async function soakBench(options: SoakOptions = {}): Promise<void> {
  const {
    minutes = 60,
    sampleS = 15,
    clipEveryS = 60,
    warmupMin = Math.min(10, minutes / 4),
    keep = false,
    v8Flags = "",
  } = options;
  const sources = mediaClips();
  const idle = await startSoaked("idle", v8Flags);
  const loaded = await startSoaked("loaded", v8Flags);
  const both = [idle, loaded];
  let stopping = false;
  let dead: string | null = null;
  // Ctrl-C or SIGTERM of the bench stops the daemons too (no orphans).
  const onSignal = () => {
    for (const s of both) {
      try {
        s.child.kill("SIGTERM");
      } catch { /* gone */ }
    }
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const exits = both.map((s) =>
    s.child.status.then((st) => {
      if (!stopping) dead ??= `${s.name} daemon exited with code ${st.code}`;
    })
  );
  // The clock starts once both daemons are up (models loaded, workers ready).
  const upBy = Date.now() + 300_000;
  for (const s of both) {
    while (!(await logText(s)).includes("dashcam running")) {
      if (dead !== null || Date.now() > upBy) {
        for (const t of both) t.child.kill("SIGTERM");
        await Promise.all(exits);
        throw new Error(
          `Cannot run the soak bench: the ${s.name} daemon did not start (${
            dead ?? "no 'dashcam running' in 5 min"
          }); its log: ${join(s.root, "daemon.log")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  console.log(
    `\n## Soak: run for ${minutes} min, idle and with a clip every ${clipEveryS} s (RSS MiB; logs in ${idle.root}, ${loaded.root})\n`,
  );
  console.log(
    "| min | idle RSS | idle total | loaded RSS | loaded total | clips |",
  );
  console.log(
    "|-----|----------|------------|------------|--------------|-------|",
  );
  const t0 = performance.now();
  const minsNow = () => (performance.now() - t0) / 60_000;
  let nextSample = 0;
  let nextClip = clipEveryS / 60; // the first interval is idle for both
  try {
    while (minsNow() < minutes && dead === null) {
      const m = minsNow();
      if (m >= nextClip) {
        await feedClip(loaded, sources);
        nextClip += clipEveryS / 60;
      }
      if (m >= nextSample) {
        const procs = await processes();
        const [a, b] = both.map((s) => sample(s, procs, m));
        console.log(
          `| ${fmt(m, 1)} | ${fmt(a.rss, 0)} | ${fmt(a.total, 0)} | ${
            fmt(b.rss, 0)
          } | ${fmt(b.total, 0)} | ${loaded.clips} |`,
        );
        nextSample += sampleS / 60;
      }
      const wait = Math.max(
        0,
        Math.min(nextClip, nextSample, minutes) - minsNow(),
      );
      await new Promise((r) => setTimeout(r, Math.min(wait * 60_000, 5000)));
    }
    const procs = await processes();
    for (const s of both) sample(s, procs, minsNow());
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    stopping = true;
    for (const s of both) {
      try {
        s.child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await Promise.all(exits);
  }
  if (dead) console.log(`\n(stopped early: ${dead})`);
  const warm = warmupMin;
  const outcome = clipOutcome(loaded);
  const rows = [[
    "daemon",
    "start",
    "10 min",
    "60 min",
    `end (${fmt(minsNow(), 1)} min)`,
    "peak",
    `slope after ${fmt(warm, 0)} min (MB/h)`,
    "clips given / outcome",
  ]];
  for (const s of both) {
    for (const key of ["rss", "total"] as const) {
      const v = (x: Sample | undefined) => (x ? fmt(x[key], 0) : "-");
      const after = s.samples.filter((x) => x.min >= warm);
      const mbPerMin = slope(after.map((x) => x.min), after.map((x) => x[key]));
      rows.push([
        `${s.name} (${key === "rss" ? "daemon" : "with children"})`,
        v(s.samples[0]),
        minutes >= 10 ? v(at(s.samples, 10)) : "-",
        minutes >= 60 ? v(at(s.samples, 60)) : "-",
        v(s.samples.at(-1)),
        fmt(Math.max(...s.samples.map((x) => x[key])), 0),
        fmt(mbPerMin * 60 * 2 ** 20 / 1e6, 1),
        s === loaded ? `${s.clips} / ${outcome}` : "0",
      ]);
    }
  }
  table(
    `Soak of run: RSS in MiB, ${minutes} min, default workers (one idle, one with a clip every ${clipEveryS} s)`,
    rows,
  );
  if (v8Flags.split(",").includes("--trace-gc")) {
    const gcRows = [[
      "daemon",
      "isolate (in order of first GC)",
      `full GCs after ${fmt(warm, 1)} min`,
      "of them by gc() (trim)",
      "most heap before one",
      "heap after the first",
      "after the last",
      "least",
      "most",
    ]];
    for (const s of both) {
      const trends = heapTrends(fullGcs(await logText(s)), {
        warmupMs: warm * 60_000,
      });
      trends.forEach((t, i) => {
        const v = (x: number | null) => (x === null ? "-" : fmt(x, 1));
        gcRows.push([
          s.name,
          `${i + 1} (${t.isolate})`,
          String(t.fullGcs),
          String(t.forced),
          v(t.peakBefore),
          v(t.first),
          v(t.last),
          v(t.min),
          v(t.max),
        ]);
      });
    }
    table(
      "JS heap of each isolate after its full GCs (MiB, from --trace-gc; the isolate's own clock)",
      gcRows,
    );
  }
  if (!keep) {
    for (const s of both) {
      await Deno.remove(s.root, { recursive: true }).catch(() => {});
    }
  }
}

if (import.meta.main) {
  await soakBench(parseSoakArgs(Deno.args));
}
