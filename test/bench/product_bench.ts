/**
 * The product's own commands as a user starts them (whole process: Deno
 * start, config, model loading, decode, every stage, exit), beside bare
 * inference of the same models on the same frames:
 *
 * Both run `main.ts` as `deno task dashcam` does: the environment and the
 * flags of the task in deno.json (`MALLOC_ARENA_MAX=2`, the V8 flags).
 *
 * - `read`: `main.ts read --json` on 100 photos and on 1 photo; the
 *   marginal time per photo is `(wall(100) - wall(1)) / 99`. Bare
 *   inference: the time inside `session.run` of the vehicle detector, the
 *   plate detector and the OCR (on the plates found) for the same photos,
 *   one after another, with the threads `read` gives its sessions.
 * - `process`: `main.ts process --json` with the default configuration
 *   and a fresh data dir on the 7 media clips. Bare inference: the same
 *   frames (ffmpeg at the default 5 fps) through the three models one
 *   after another with 1 thread per session (the default), summed time
 *   inside `session.run`.
 *
 * Peak RSS is the largest sum, over 25 ms samples of `/proc/PID/statm`, of
 * the resident pages of the deno process (its Web Workers are threads of
 * it) and every descendant (ffmpeg, ffprobe, ExifTool and its relay). A
 * sum of RSS counts a page shared by two processes twice: ffmpeg and
 * ffprobe map the same libraries (about 40 MiB of file-backed pages in
 * a decoding ffmpeg, `Pss_File` of its smaps_rollup). Peak PSS (`Pss:` of
 * `/proc/PID/smaps_rollup`: each shared page divided among the processes
 * that map it) is the tree's share of physical memory, read every 250 ms
 * and at each new RSS peak (reading it takes the process's mmap lock).
 *
 * Reading `/proc` of other processes needs `--allow-all`, so `main.ts` runs
 * this module as its own process ({@linkcode productBench}).
 *
 * `BENCH_RUNS=N` sets the runs of `process` (default 3, median shown).
 *
 * `BENCH_ROOT=/path/to/checkout` runs that checkout's `main.ts` instead of
 * this one (to measure older code with the same bench).
 *
 * @module
 */
import { join } from "node:path";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { decodeFrames } from "../../src/ingest/mod.ts";
import { decodePpm } from "../../src/shared/mod.ts";
import { VEHICLE_CLASS_IDS } from "../../src/vision/assign.ts";
import { loadManifest, resolveModel } from "../../src/vision/model_store.ts";
import { Detector, PlateOcr } from "../../src/vision/models.ts";
import type { InferenceSession } from "../../src/vision/inference.ts";
import type { RgbImage } from "../../src/shared/mod.ts";
import {
  loadGroundTruth,
  SHARED_MEDIA,
  TEST_MODELS,
} from "../support/shared.ts";
import { fmt, table } from "./_util.ts";

const ROOT = Deno.env.get("BENCH_ROOT") ??
  new URL("../../", import.meta.url).pathname;
const PAGE = 4096;

/** Resident bytes of a process, 0 when it is gone. */
function rssOf(pid: number): number {
  try {
    const statm = Deno.readTextFileSync(`/proc/${pid}/statm`).split(" ");
    return Number(statm[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** Proportional set size of a process (bytes), 0 when it is gone. */
function pssOf(pid: number): number {
  try {
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const kib = /^Pss:\s+(\d+) kB$/m.exec(rollup);
    return kib ? Number(kib[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU ticks (user + system, its own threads only) of a process, 0 when it
 * is gone. Linux counts them in USER_HZ, 100 a second on x86-64 and
 * aarch64.
 */
function cpuTicksOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0;
  }
}

/** USER_HZ: the unit of `utime` and `stime` in `/proc/PID/stat`. */
const TICKS_PER_S = 100;

/**
 * The pids of `root` and its descendants. A child not yet past `exec`
 * (still named like its parent) shares the parent's pages and is left
 * out: counting it would add the parent's RSS twice.
 */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid) || pid === root) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm === "deno") continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(pid, Number(fields[1]));
    } catch {
      // gone
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  }
  return out;
}

/** Result of one timed command. */
export interface CommandRun {
  /** Wall seconds from spawn to exit. */
  wallS: number;
  /** Peak RSS of the process tree, MiB. */
  peakMiB: number;
  /** Peak RSS of the deno process alone, MiB. */
  peakMainMiB: number;
  /** Peak PSS of the process tree, MiB. */
  peakPssMiB: number;
  /**
   * CPU seconds (user + system) of the process tree: each process's own
   * ticks at its last 25 ms sample, summed (up to 25 ms of each is missed).
   */
  cpuS: number;
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/**
 * The environment and flags `deno task dashcam` of the checkout at `root`
 * runs main.ts with (its deno.json: `[NAME=value ...] deno run FLAGS
 * main.ts`), so an older checkout is measured as its own task starts it.
 */
function taskCommand(
  root: string,
): { env: Record<string, string>; flags: string[] } {
  const tasks = (JSON.parse(Deno.readTextFileSync(join(root, "deno.json"))) as {
    tasks: Record<string, string>;
  }).tasks;
  const words = tasks.dashcam.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? "")) {
    const word = words.shift()!;
    env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1);
  }
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(
      `Cannot read the dashcam task of ${
        join(root, "deno.json")
      }: ${tasks.dashcam}`,
    );
  }
  return { env, flags: words.slice(2, -1) };
}

/**
 * Runs `main.ts ARGS` as the dashcam task does (its environment and flags
 * from deno.json) and samples its memory.
 *
 * @param args CLI arguments.
 * @param options Extra environment.
 * @returns Wall time, peaks, exit code and output.
 */
export async function timeDashcam(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<CommandRun> {
  const t0 = performance.now();
  const task = taskCommand(ROOT);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...task.flags, join(ROOT, "main.ts"), ...args],
    cwd: ROOT,
    env: { XDG_RUNTIME_DIR: "/tmp", ...task.env, ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let peak = 0;
  let peakMain = 0;
  let peakPss = 0;
  let samples = 0;
  const ticks = new Map<number, number>();
  const sample = () => {
    const main = rssOf(child.pid);
    peakMain = Math.max(peakMain, main);
    const pids = tree(child.pid);
    let sum = main;
    for (const pid of pids.slice(1)) sum += rssOf(pid);
    for (const pid of pids) {
      ticks.set(pid, Math.max(ticks.get(pid) ?? 0, cpuTicksOf(pid)));
    }
    // smaps_rollup walks the page tables under the process's mmap lock
    // (3.3 ms for a 300 MiB deno): read every 10th sample and at each new
    // RSS peak only, so the bench does not slow what it measures.
    if (samples++ % 10 === 0 || sum > peak) {
      let pss = 0;
      for (const pid of pids) pss += pssOf(pid);
      peakPss = Math.max(peakPss, pss);
    }
    peak = Math.max(peak, sum);
  };
  const timer = setInterval(sample, 25);
  const out = await child.output();
  clearInterval(timer);
  const wallS = (performance.now() - t0) / 1000;
  return {
    wallS,
    peakMiB: peak / 2 ** 20,
    peakMainMiB: peakMain / 2 ** 20,
    peakPssMiB: peakPss / 2 ** 20,
    cpuS: [...ticks.values()].reduce((a, b) => a + b, 0) / TICKS_PER_S,
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Sums the time spent in `session.run`. */
function timed(session: InferenceSession, acc: { ms: number }): void {
  const run = session.run.bind(session);
  session.run = async (feeds) => {
    const t0 = performance.now();
    try {
      return await run(feeds);
    } finally {
      acc.ms += performance.now() - t0;
    }
  };
}

/** The three default models, with their `session.run` time summed. */
async function bareModels(threads: number) {
  const manifest = await loadManifest();
  const resolve = { dir: TEST_MODELS };
  const load = {
    modelsDir: TEST_MODELS,
    backend: "native",
    threads,
  } as const;
  const vehicles = await Detector.load(
    await resolveModel(manifest, "vehicle_detect", resolve),
    load,
  );
  const plates = await Detector.load(
    await resolveModel(manifest, "plate_detect", resolve),
    load,
  );
  const ocr = await PlateOcr.load(
    await resolveModel(manifest, "ocr", resolve),
    load,
  );
  const acc = { ms: 0 };
  for (const s of [vehicles.session, plates.session, ocr.session]) {
    timed(s, acc);
  }
  return {
    acc,
    async infer(img: RgbImage): Promise<void> {
      await vehicles.detect(img, { classIds: [...VEHICLE_CLASS_IDS] });
      const found = await plates.detect(img);
      await ocr.read(img, found.map((p) => p.box));
    },
    async close() {
      await Promise.all([vehicles.close(), plates.close(), ocr.close()]);
    },
  };
}

/** The 100 photos of the `read` bench: the 18 dashcam stills, in turn. */
async function photos(dir: string): Promise<string[]> {
  const stills = (await loadGroundTruth()).filter((t) =>
    t.file.startsWith("stills/ro_dashcam/")
  ).map((t) => `${SHARED_MEDIA}/${t.file}`);
  const out: string[] = [];
  for (let i = 0; i < 100; i++) {
    const path = join(dir, `photo_${String(i).padStart(3, "0")}.jpg`);
    await Deno.copyFile(stills[i % stills.length], path);
    out.push(path);
  }
  return out;
}

/** `deno task bench read`. */
export async function readBench(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench_read_" });
  try {
    const files = await photos(dir);
    const common = [
      "read",
      "--json",
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      join(dir, "data"),
      "--log-level",
      "warn",
    ];
    const runs100: CommandRun[] = [];
    const runs1: CommandRun[] = [];
    for (let i = 0; i < 3; i++) {
      runs1.push(await timeDashcam([...common, files[0]]));
      runs100.push(await timeDashcam([...common, ...files]));
    }
    for (const r of [...runs1, ...runs100]) {
      if (r.code !== 0) throw new Error(`read failed: ${r.stderr}`);
    }
    const med = (rs: CommandRun[]) =>
      [...rs].sort((a, b) => a.wallS - b.wallS)[1];
    const one = med(runs1);
    const hundred = med(runs100);
    const marginalMs = (hundred.wallS - one.wallS) / 99 * 1000;
    // Bare inference with 1 thread per session (read's sessions) and with
    // every core per session (what read used before); the ratio is taken
    // against the faster of the two.
    const cores = Math.max(1, navigator.hardwareConcurrency || 1);
    const bareMsAt = async (threads: number) => {
      const bare = await bareModels(threads);
      for (const f of files.slice(0, 18)) {
        await bare.infer(await decodeImageFile(f)); // warm-up
      }
      bare.acc.ms = 0;
      for (const f of files) await bare.infer(await decodeImageFile(f));
      await bare.close();
      return bare.acc.ms / files.length;
    };
    const bare1 = await bareMsAt(1);
    const bareN = await bareMsAt(cores);
    const bareMs = Math.min(bare1, bareN);
    table(
      `read as a user starts it (${
        join(ROOT, "main.ts")
      } read --json, whole process, median of 3), beside bare inference`,
      [
        [
          "1 photo: wall s",
          "100 photos: wall s",
          "read ms per photo (marginal)",
          "bare inference ms per photo: 1 thread",
          `${cores} threads`,
          "read / bare (the faster)",
          "read CPU ms per photo (marginal)",
          "peak RSS MiB (100)",
        ],
        [
          fmt(one.wallS, 2),
          fmt(hundred.wallS, 2),
          fmt(marginalMs, 1),
          fmt(bare1, 1),
          fmt(bareN, 1),
          fmt(marginalMs / bareMs, 2),
          fmt((hundred.cpuS - one.cpuS) / 99 * 1000, 1),
          fmt(hundred.peakMiB, 0),
        ],
      ],
    );
    console.log(
      "\nphotos: the 18 dashcam stills of ../shared/media/stills/ro_dashcam in turn (100 files); bare inference: time inside session.run of the three models, one after another, on the same 100 photos (after an 18-photo warm-up)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `deno task bench process`. */
export async function processBench(): Promise<void> {
  const clips = (await loadGroundTruth()).filter((t) =>
    t.file.startsWith("clips/")
  ).map((t) => `${SHARED_MEDIA}/${t.file}`);
  const runs: CommandRun[] = [];
  let videoS = 0;
  const n = Number(Deno.env.get("BENCH_RUNS") ?? 3);
  for (let i = 0; i < n; i++) {
    const dir = await Deno.makeTempDir({ prefix: "bench_process_" });
    try {
      const run = await timeDashcam([
        "process",
        "--json",
        "--models-dir",
        TEST_MODELS,
        "--data-dir",
        join(dir, "data"),
        ...clips,
      ]);
      if (run.code !== 0) throw new Error(`process failed: ${run.stderr}`);
      runs.push(run);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const bare = await bareModels(1);
  let frames = 0;
  for (const clip of clips) {
    const probe = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "csv=p=0",
        clip,
      ],
      stdout: "piped",
    }).output();
    videoS += Number(new TextDecoder().decode(probe.stdout).trim());
    for await (const f of decodeFrames(clip, { fps: 5 })) {
      await bare.infer(decodePpm(f.ppm));
      frames++;
    }
  }
  await bare.close();
  const bareS = bare.acc.ms / 1000;
  runs.sort((a, b) => a.wallS - b.wallS);
  const run = runs[runs.length >> 1];
  table(
    `process as a user starts it (${
      join(ROOT, "main.ts")
    } process --json, default config, fresh data dir, 7 media clips, whole process, median of ${n}), beside bare inference`,
    [
      [
        "video s",
        "frames (5 fps)",
        "wall s: median (min-max)",
        "video s / wall s",
        "bare inference s",
        "wall / bare",
        "CPU s of the tree (its run)",
        "CPU / bare",
        `peak RSS MiB: tree (deno alone), max of ${n}`,
        `peak PSS MiB: tree, max of ${n}`,
      ],
      [
        fmt(videoS, 1),
        String(frames),
        `${fmt(run.wallS, 2)} (${fmt(runs[0].wallS, 2)}-${
          fmt(runs[runs.length - 1].wallS, 2)
        })`,
        `${fmt(videoS / run.wallS, 1)}x`,
        fmt(bareS, 2),
        fmt(run.wallS / bareS, 2),
        fmt(run.cpuS, 2),
        fmt(run.cpuS / bareS, 2),
        `${fmt(Math.max(...runs.map((r) => r.peakMiB)), 0)} (${
          fmt(Math.max(...runs.map((r) => r.peakMainMiB)), 0)
        })`,
        fmt(Math.max(...runs.map((r) => r.peakPssMiB)), 0),
      ],
    ],
  );
  console.log(
    "\nbare inference: time inside session.run of the three default models (native, 1 thread), one after another, on the same frames (ffmpeg, 5 fps); CPU s: user + system seconds of deno and every child (ffmpeg, ffprobe, ExifTool), from /proc/PID/stat, of the median run: on 2 cores the wall time can be below it, so CPU / bare is what the product spends beside inference whatever the cores; peak RSS: /proc/PID/statm of deno plus its children (ffmpeg, ffprobe, ExifTool), sampled every 25 ms; peak PSS: Pss of /proc/PID/smaps_rollup of the same processes (shared pages divided among them), every 250 ms and at each new RSS peak",
  );
}

/**
 * Runs a section of this module as its own process with `--allow-all`.
 *
 * @param section `read` or `process`.
 */
export async function productBench(section: "read" | "process"): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, section],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) console.log(`(${section} bench exited with ${out.code})`);
}

if (import.meta.main) {
  if (Deno.args[0] === "read") await readBench();
  else if (Deno.args[0] === "process") await processBench();
  else console.error("usage: product_bench.ts read|process");
}
