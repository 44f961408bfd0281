/**
 * `deno task test:arm64`: the aarch64 check. Runs the product with the
 * aarch64 build of Deno under qemu's user-mode emulator (aarch64 V8, aarch64
 * onnxruntime-node and sharp builds, the same TypeScript) on one photo
 * (`read --json`) and one short clip (`process --json`), runs the same
 * commands with the host's x86-64 Deno, and fails unless both give the same
 * plates and events.
 *
 * Set-up it needs (see `.ci/run`): `qemu-user-static` (or `qemu-user`), the
 * aarch64 C/C++ runtime (`libc6:arm64`, `libstdc++6:arm64` from Debian
 * multiarch), npm and network access to the npm registry on the first run.
 * The aarch64 Deno and the aarch64 npm packages are kept in `.cache/arm64`
 * (the aarch64 Deno's own `DENO_DIR`; the repository's x86-64
 * `node_modules` is not used or touched by the aarch64 run). ffmpeg stays the
 * host's: the emulated process starts it as a host program.
 *
 * Exit code 0 when the runs agree, 1 otherwise; the last line says which.
 *
 * @module
 */
import { fromFileUrl } from "../support/paths.ts";
import { DASHCAM_FLAGS } from "../support/cli.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";
import {
  AARCH64_DENO,
  type Aarch64Runner,
  ensureAarch64Deno,
  findAarch64Runner,
} from "./aarch64_deno.ts";
import { diffJsonLines } from "./diff_json_lines.ts";
import type { RuntimeProbe } from "./runtime_probe.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));
const CACHE = `${ROOT}.cache/arm64`;
const MAIN = `${ROOT}main.ts`;
const PROBE = `${ROOT}test/arm64/runtime_probe.ts`;

/** A photo with one plate (B144MOS). */
const STILL = `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0056.jpg`;
/** A 3 s, 640x480 clip with two plates (24LSB1, 89NVJP). */
const CLIP = `${SHARED_MEDIA}/clips/nl_tudelft/Video47_2.avi`;
/** Frames sampled per second of the clip (fewer frames, shorter emulation). */
const FPS = "1";
/** Longest an emulated command may run before the check gives up. */
const ARM64_TIMEOUT_MS = 20 * 60_000;

/**
 * Settings of both runs: one worker per stage (each worker loads its model,
 * which is slow under emulation), the native (onnxruntime-node) backend so a
 * runtime that fails to load is an error rather than a fallback to wasm, and
 * a task time limit far beyond emulated speed (the default 60 s would
 * replace workers mid-task under qemu).
 */
const CONFIG = {
  workers: {
    vehicle_detect: 1,
    plate_detect: 1,
    ocr: 1,
    plate_smooth: 1,
    summary: 1,
  },
  inference: { backend: "native", threads: 1 },
  graph: { lease_s: 7200, task_timeout_s: 3600 },
  log_level: "warn",
};

/**
 * What may differ between the runs. `createdAt` is the wall-clock time the
 * event was written. Boxes (pixels, printed to 0.1) and confidences (printed
 * to 1e-4) come from float arithmetic that x86-64 (AVX) and aarch64 (NEON)
 * kernels may round differently; plate texts, track and frame numbers, times
 * and keys must be equal.
 */
const COMPARE = {
  ignoreKeys: ["createdAt"],
  tolerance: {
    plateBbox: 0.5,
    carBbox: 0.5,
    plate_bbox: 0.5,
    car_bbox: 0.5,
    plateConfidence: 0.002,
    confidence: 0.002,
  },
};

/** One Deno to run the product with. */
interface Runtime {
  name: string;
  /** Program and arguments before `run`. */
  argv: string[];
  /** Arguments after `run`, before the permission flags. */
  runFlags: string[];
  env: Record<string, string>;
  timeoutMs?: number;
}

interface RunOutput {
  stdout: string;
  seconds: number;
}

function say(line: string): void {
  console.log(`test:arm64: ${line}`);
}

async function exec(
  rt: Runtime,
  args: string[],
  what: string,
): Promise<RunOutput> {
  const [program, ...pre] = rt.argv as [string, ...string[]];
  const started = performance.now();
  const child = new Deno.Command(program, {
    args: [...pre, ...args],
    cwd: ROOT,
    env: { XDG_RUNTIME_DIR: "/tmp", DENO_NO_UPDATE_CHECK: "1", ...rt.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(rt.timeoutMs === undefined
      ? {}
      : { signal: AbortSignal.timeout(rt.timeoutMs) }),
  });
  const out = await child.output();
  const seconds = (performance.now() - started) / 1000;
  const dec = new TextDecoder();
  if (!out.success) {
    const err = dec.decode(out.stderr).trim().split("\n").slice(-5).join(
      "\n  ",
    );
    throw new Error(
      `${rt.name} ${what} failed (${
        out.signal ? `killed by ${out.signal}` : `exit ${out.code}`
      } after ${seconds.toFixed(0)} s):\n  ${err}`,
    );
  }
  return { stdout: dec.decode(out.stdout), seconds };
}

function dashcam(rt: Runtime, args: string[], what: string) {
  return exec(
    rt,
    ["run", ...rt.runFlags, ...DASHCAM_FLAGS, MAIN, ...args],
    what,
  );
}

interface RunResults {
  probe: RuntimeProbe;
  read: RunOutput;
  process: RunOutput;
}

async function runAll(rt: Runtime, configPath: string): Promise<RunResults> {
  const probeOut = await exec(
    rt,
    ["run", ...rt.runFlags, ...DASHCAM_FLAGS, PROBE, STILL],
    "runtime probe",
  );
  const probe = JSON.parse(probeOut.stdout) as RuntimeProbe;
  say(
    `${rt.name}: Deno for ${probe.arch}, sharp ${
      "error" in probe.sharp ? `cannot decode: ${probe.sharp.error}` : "decodes"
    }, starts ${probe.ffmpeg} (${probeOut.seconds.toFixed(0)} s)`,
  );
  const common = [
    "--json",
    "--config",
    configPath,
    "--models-dir",
    TEST_MODELS,
  ];
  const readData = await Deno.makeTempDir({ prefix: "dashcam-arm64-" });
  const processData = await Deno.makeTempDir({ prefix: "dashcam-arm64-" });
  try {
    const read = await dashcam(
      rt,
      ["read", ...common, "--data-dir", readData, STILL],
      "read",
    );
    say(`${rt.name}: read 1 photo in ${read.seconds.toFixed(0)} s`);
    const process = await dashcam(
      rt,
      ["process", ...common, "--fps", FPS, "--data-dir", processData, CLIP],
      "process",
    );
    say(`${rt.name}: processed 1 clip in ${process.seconds.toFixed(0)} s`);
    return { probe, read, process };
  } finally {
    await Deno.remove(readData, { recursive: true });
    await Deno.remove(processData, { recursive: true });
  }
}

async function main(): Promise<number> {
  for (const path of [STILL, CLIP]) {
    try {
      await Deno.stat(path);
    } catch {
      say(
        `FAIL: ${path} not found: ../shared (models and media) must sit beside the repo`,
      );
      return 1;
    }
  }
  let runner: Aarch64Runner;
  let armDeno: string;
  try {
    runner = await findAarch64Runner();
    armDeno = await ensureAarch64Deno(CACHE, { log: say });
  } catch (error) {
    say(`FAIL: ${(error as Error).message}`);
    return 1;
  }
  const host: Runtime = {
    name: "x86-64",
    argv: [Deno.execPath()],
    runFlags: [],
    env: {},
  };
  const arm: Runtime = {
    name: "aarch64",
    argv: [...runner.prefix, runner.qemu, ...runner.args, armDeno],
    // The aarch64 Deno keeps its npm packages (with the aarch64 builds of
    // onnxruntime-node's binding and sharp) in its own DENO_DIR: no
    // node_modules folder, and the lock file must not change.
    runFlags: ["--node-modules-dir=none", "--frozen"],
    env: { DENO_DIR: `${CACHE}/deno_dir` },
    timeoutMs: ARM64_TIMEOUT_MS,
  };
  if (Deno.build.arch !== "x86_64") {
    say(`FAIL: the host Deno is built for ${Deno.build.arch}, not x86_64`);
    return 1;
  }

  const started = performance.now();
  const tmp = await Deno.makeTempDir({ prefix: "dashcam-arm64-" });
  try {
    const configPath = `${tmp}/dashcam.json`;
    await Deno.writeTextFile(configPath, JSON.stringify(CONFIG));
    const version = await exec(arm, ["--version"], "--version");
    say(`${version.stdout.split("\n")[0]} under ${runner.qemu}`);
    if (runner.prefix.length > 0) {
      say("the host's CPU caches are hidden from it (see HIDE_CPU_CACHES)");
    } else if (runner.note !== undefined) {
      say(
        `cannot hide the host's CPU caches from it (${runner.note}); its onnxruntime may crash on this host`,
      );
    }
    // The first run on a machine downloads the aarch64 npm packages.
    const cached = await exec(
      arm,
      ["cache", ...arm.runFlags, MAIN, PROBE],
      "cache",
    );
    say(`aarch64 npm packages ready (${cached.seconds.toFixed(0)} s)`);

    const want = await runAll(host, configPath);
    const got = await runAll(arm, configPath);

    const problems: string[] = [];
    if (got.probe.arch !== "aarch64") {
      problems.push(`the emulated Deno is built for ${got.probe.arch}`);
    }
    if (got.probe.ffmpeg.startsWith("error")) {
      problems.push(`the aarch64 run cannot start ffmpeg: ${got.probe.ffmpeg}`);
    }
    if ("error" in got.probe.sharp) {
      problems.push(`sharp (aarch64) cannot decode: ${got.probe.sharp.error}`);
    } else if (
      !("error" in want.probe.sharp) &&
      got.probe.sharp.sha256 !== want.probe.sharp.sha256
    ) {
      problems.push("sharp decodes the photo to other pixels on aarch64");
    }
    const read = diffJsonLines(want.read.stdout, got.read.stdout, COMPARE);
    const events = diffJsonLines(
      want.process.stdout,
      got.process.stdout,
      COMPARE,
    );
    problems.push(
      ...read.differences.map((d) => `read ${d}`),
      ...events.differences.map((d) => `process ${d}`),
    );
    const plates = countPlates(want.read.stdout);
    const eventCount = lines(want.process.stdout).length;
    if (plates === 0 || eventCount === 0) {
      problems.push(
        `the x86-64 run found ${plates} plates and ${eventCount} events: nothing to compare`,
      );
    }
    const dev = { ...read.maxDeviation };
    for (const [k, v] of Object.entries(events.maxDeviation)) {
      dev[k] = Math.max(dev[k] ?? 0, v);
    }
    const box = Math.max(
      0,
      ...["plateBbox", "carBbox", "plate_bbox", "car_bbox"].map((k) =>
        dev[k] ?? 0
      ),
    );
    const conf = Math.max(dev.plateConfidence ?? 0, dev.confidence ?? 0);
    const total = ((performance.now() - started) / 1000).toFixed(0);
    if (problems.length > 0) {
      for (const p of problems) say(`  ${p}`);
      say(
        `FAIL: aarch64 Deno ${AARCH64_DENO.version} under qemu does not give the x86-64 results (${problems.length} differences, ${total} s)`,
      );
      return 1;
    }
    say(
      `PASS: aarch64 Deno ${AARCH64_DENO.version} under qemu read 1 photo (${plates} plate) and processed 1 clip (${eventCount} events: ${
        eventPlates(got.process.stdout)
      }) as on x86-64; largest differences: box ${round(box)} px, confidence ${
        round(conf)
      } (${total} s)`,
    );
    return 0;
  } catch (error) {
    say(`FAIL: ${(error as Error).message}`);
    return 1;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

function countPlates(readOut: string): number {
  return lines(readOut).reduce(
    (n, l) => n + (JSON.parse(l).plates?.length ?? 0),
    0,
  );
}

function eventPlates(processOut: string): string {
  return lines(processOut).map((l) => JSON.parse(l).finalPlate).join(", ");
}

function round(x: number): string {
  return String(Math.round(x * 1e4) / 1e4);
}

if (import.meta.main) Deno.exit(await main());
