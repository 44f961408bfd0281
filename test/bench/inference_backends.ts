/**
 * Times `session.run` of the pipeline's models on every inference backend,
 * on the main thread and inside one module Web Worker, and prints a table.
 *
 *     deno run --allow-all test/bench/inference_backends.ts [--models DIR] [--runs N]
 *
 * Each (backend, threads, place) combination runs in its own child process
 * (wasm's thread count is fixed per process or worker, and a hung wasm run
 * cannot be interrupted from inside): a child that prints nothing for the
 * timeout is killed, its current model is reported as `hung`, and a fresh
 * child goes on with the remaining models.
 *
 * Inputs are made from a real still (nearest-neighbour stretch), so that
 * models with NMS inside the graph see real candidate boxes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import {
  type Backend,
  createInferenceSession,
  type Tensor,
} from "../../src/vision/inference.ts";
import type { RgbImage } from "../../src/shared/mod.ts";
import type {
  FromBenchWorker,
  ToBenchWorker,
} from "./inference_backends_worker.ts";

const STILL = `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0488.jpg`;
const DEFAULT_MODELS = TEST_MODELS;

/** One timed model with its input. */
interface BenchCase {
  id: string;
  file: string;
  input: "yolox" | "yolo" | "ocr1" | "ocr8";
}

const CASES: BenchCase[] = [
  { id: "yolox_nano 416", file: "yolox_nano.onnx", input: "yolox" },
  {
    id: "yolo-v9-t-416 fp32",
    file: "yolo-v9-t-416-license-plates-end2end-fp32.onnx",
    input: "yolo",
  },
  { id: "cct_xs_v2 batch 1", file: "cct_xs_v2_global.onnx", input: "ocr1" },
  { id: "cct_xs_v2 batch 8", file: "cct_xs_v2_global.onnx", input: "ocr8" },
];

/** What one child process measures. */
interface ChildPlan {
  backend: Backend;
  threads: number;
  place: "main" | "worker";
  cases: string[];
  modelsDir: string;
  runs: number;
  maxMs: number;
}

/** One measured (or failed) case, as a child prints it. */
interface CaseResult {
  id: string;
  backend?: Backend;
  loadMs?: number;
  medianMs?: number;
  p90Ms?: number;
  n?: number;
  /** Worker only: median round trip (copy + postMessage + run + reply). */
  roundTripMs?: number;
  error?: string;
  log?: string[];
}

const RESULT_PREFIX = "RESULT ";

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// ---------------------------------------------------------------- inputs

async function loadStill(): Promise<RgbImage> {
  try {
    return await decodeImageFile(STILL);
  } catch {
    // No shared media: a deterministic pattern keeps the script usable.
    const width = 1280, height = 720;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    return { width, height, data };
  }
}

/** Nearest-neighbour stretch of a region of `image` to w x h, RGB. */
function stretch(
  image: RgbImage,
  region: [number, number, number, number],
  w: number,
  h: number,
): Uint8Array {
  const [x0, y0, x1, y1] = region;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(
      image.height - 1,
      Math.floor(y0 + (y + 0.5) * (y1 - y0) / h),
    );
    for (let x = 0; x < w; x++) {
      const sx = Math.min(
        image.width - 1,
        Math.floor(x0 + (x + 0.5) * (x1 - x0) / w),
      );
      const s = (sy * image.width + sx) * 3;
      const d = (y * w + x) * 3;
      out[d] = image.data[s];
      out[d + 1] = image.data[s + 1];
      out[d + 2] = image.data[s + 2];
    }
  }
  return out;
}

/** RGB bytes to an NCHW float tensor, optionally BGR and divided by `scale`. */
function toNchw(
  rgb: Uint8Array,
  size: number,
  bgr: boolean,
  scale: number,
): Tensor {
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const source = bgr ? 2 - c : c;
      data[c * plane + p] = rgb[p * 3 + source] / scale;
    }
  }
  return { type: "float32", data, dims: [1, 3, size, size] };
}

function makeFeeds(
  image: RgbImage,
  input: BenchCase["input"],
): Record<string, Tensor> {
  const whole: [number, number, number, number] = [
    0,
    0,
    image.width,
    image.height,
  ];
  if (input === "yolox") {
    return { images: toNchw(stretch(image, whole, 416, 416), 416, true, 1) };
  }
  if (input === "yolo") {
    return { images: toNchw(stretch(image, whole, 416, 416), 416, false, 255) };
  }
  const batch = input === "ocr1" ? 1 : 8;
  const data = new Uint8Array(batch * 64 * 128 * 3);
  for (let b = 0; b < batch; b++) {
    const x = 100 + b * 120, y = 400 + (b % 3) * 40;
    data.set(
      stretch(image, [x, y, x + 160, y + 50], 128, 64),
      b * 64 * 128 * 3,
    );
  }
  return { input: { type: "uint8", data, dims: [batch, 64, 128, 3] } };
}

// ---------------------------------------------------------------- child

function emit(result: CaseResult): void {
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

async function timeOnMain(
  plan: ChildPlan,
  benchCase: BenchCase,
  feeds: Record<string, Tensor>,
) {
  const log: string[] = [];
  const start = performance.now();
  const session = await createInferenceSession(
    `${plan.modelsDir}/${benchCase.file}`,
    {
      backend: plan.backend,
      threads: plan.threads,
      log: (line) => log.push(line),
    },
  );
  const loadMs = performance.now() - start;
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  const begin = performance.now();
  while (
    times.length < plan.runs &&
    (times.length < 3 || performance.now() - begin < plan.maxMs)
  ) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  emit({
    id: benchCase.id,
    backend: session.backend,
    loadMs,
    medianMs: quantile(times, 0.5),
    p90Ms: quantile(times, 0.9),
    n: times.length,
    log,
  });
}

/** A worker that answers one request at a time. */
class BenchWorker {
  #worker = new Worker(
    new URL("./inference_backends_worker.ts", import.meta.url),
    {
      type: "module",
    },
  );
  #waiting: ((message: FromBenchWorker) => void) | undefined;

  constructor() {
    this.#worker.onmessage = (event: MessageEvent<FromBenchWorker>) => {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve?.(event.data);
    };
  }

  async ask(
    message: ToBenchWorker,
    transfer: Transferable[] = [],
  ): Promise<FromBenchWorker> {
    const reply = new Promise<FromBenchWorker>((resolve) =>
      this.#waiting = resolve
    );
    this.#worker.postMessage(message, transfer);
    const answer = await reply;
    if (answer.type === "error") throw new Error(answer.message);
    return answer;
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

async function timeInWorker(
  worker: BenchWorker,
  plan: ChildPlan,
  benchCase: BenchCase,
  feeds: Record<string, Tensor>,
) {
  const ready = await worker.ask({
    type: "init",
    model: `${plan.modelsDir}/${benchCase.file}`,
    backend: plan.backend,
    threads: plan.threads,
  });
  if (ready.type !== "ready") throw new Error(`unexpected ${ready.type}`);
  const timed = await worker.ask({
    type: "time",
    feeds,
    warmup: 3,
    runs: plan.runs,
    maxMs: plan.maxMs,
  });
  if (timed.type !== "times") throw new Error(`unexpected ${timed.type}`);
  // Round trips as the pipeline does them: copy the input, transfer it, wait.
  const trips: number[] = [];
  const begin = performance.now();
  while (
    trips.length < Math.min(plan.runs, 10) &&
    (trips.length < 3 || performance.now() - begin < plan.maxMs)
  ) {
    const t0 = performance.now();
    const copy: Record<string, Tensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      const data = tensor.data.slice();
      copy[name] = { type: tensor.type, data, dims: tensor.dims };
      transfer.push(data.buffer);
    }
    await worker.ask({ type: "run", id: trips.length, feeds: copy }, transfer);
    trips.push(performance.now() - t0);
  }
  await worker.ask({ type: "release" });
  emit({
    id: benchCase.id,
    backend: ready.backend,
    loadMs: ready.loadMs,
    medianMs: quantile(timed.times, 0.5),
    p90Ms: quantile(timed.times, 0.9),
    n: timed.times.length,
    roundTripMs: quantile(trips, 0.5),
    log: ready.log,
  });
}

async function runChild(plan: ChildPlan): Promise<void> {
  const image = await loadStill();
  const worker = plan.place === "worker" ? new BenchWorker() : undefined;
  try {
    for (const id of plan.cases) {
      const benchCase = CASES.find((c) => c.id === id)!;
      const feeds = makeFeeds(image, benchCase.input);
      try {
        if (worker) await timeInWorker(worker, plan, benchCase, feeds);
        else await timeOnMain(plan, benchCase, feeds);
      } catch (error) {
        emit({
          id,
          error: error instanceof Error
            ? error.message.split("\n")[0]
            : String(error),
        });
      }
    }
  } finally {
    worker?.terminate();
  }
}

// ---------------------------------------------------------------- parent

/** Runs one child; returns results, with `hung` for a case that stalled. */
async function runPlan(
  plan: ChildPlan,
  stallMs: number,
  env: Record<string, string>,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let remaining = [...plan.cases];
  while (remaining.length > 0) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-prompt",
        new URL(import.meta.url).pathname,
        "--child",
        JSON.stringify({ ...plan, cases: remaining }),
      ],
      stdout: "piped",
      stderr: "null",
      env,
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let buffer = "";
    let stalled = false;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"stall">((resolve) => {
        timer = setTimeout(() => resolve("stall"), stallMs);
      });
      const next = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (next === "stall") {
        stalled = true;
        child.kill("SIGKILL");
        await reader.cancel().catch(() => {});
        break;
      }
      if (next.done) break;
      buffer += next.value;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith(RESULT_PREFIX)) continue;
        const result = JSON.parse(
          line.slice(RESULT_PREFIX.length),
        ) as CaseResult;
        results.push(result);
        remaining = remaining.filter((id) => id !== result.id);
        const label = `${plan.backend} t${plan.threads} ${plan.place}`;
        console.error(
          `${label.padEnd(18)} ${result.id.padEnd(20)} ${
            result.error ??
              `${result.medianMs!.toFixed(1)} ms (n=${result.n}, load ${
                result.loadMs!.toFixed(0)
              } ms${
                result.roundTripMs === undefined
                  ? ""
                  : `, round trip ${result.roundTripMs.toFixed(1)} ms`
              })`
          }`,
        );
      }
    }
    await child.status;
    if (remaining.length > 0) {
      const id = remaining.shift()!;
      const error = stalled
        ? `hung (no answer in ${stallMs / 1000} s, killed)`
        : "child exited early";
      results.push({ id, error });
      console.error(
        `${plan.backend} t${plan.threads} ${plan.place} ${id}: ${error}`,
      );
    }
  }
  return results;
}

async function gpuAdapterDescription(): Promise<string | undefined> {
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
  if (!adapter) return undefined;
  return adapter.info.description || adapter.info.vendor || "unknown adapter";
}

function cell(
  result: CaseResult | undefined,
  place: "main" | "worker",
): string {
  if (result === undefined) return "–";
  if (result.error !== undefined) return result.error.slice(0, 40);
  const median = result.medianMs!.toFixed(1);
  return place === "worker"
    ? `${median} (rt ${result.roundTripMs!.toFixed(1)})`
    : median;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "string" },
      models: { type: "string", default: DEFAULT_MODELS },
      runs: { type: "string", default: "20" },
      "max-ms": { type: "string", default: "8000" },
      "no-webgpu": { type: "boolean", default: false },
    },
  });
  if (values.child !== undefined) {
    await runChild(JSON.parse(values.child) as ChildPlan);
    return;
  }
  const runs = Number(values.runs);
  const maxMs = Number(values["max-ms"]);
  const xdg = Deno.env.get("XDG_RUNTIME_DIR") ??
    await Deno.makeTempDir({ prefix: "xdg_" });
  const env = { XDG_RUNTIME_DIR: xdg };
  Deno.env.set("XDG_RUNTIME_DIR", xdg);
  const adapter = values["no-webgpu"]
    ? undefined
    : await gpuAdapterDescription();
  const combos: Array<{ backend: Backend; threads: number }> = [
    { backend: "native", threads: 1 },
    { backend: "native", threads: 2 },
    { backend: "wasm", threads: 1 },
    { backend: "wasm", threads: 2 },
  ];
  if (adapter !== undefined) combos.push({ backend: "webgpu", threads: 1 });
  console.error(
    `${navigator.hardwareConcurrency} CPU threads; webgpu adapter: ${
      adapter ?? "none"
    }; runs ${runs}, at most ${maxMs} ms per case`,
  );

  const table = new Map<string, CaseResult>();
  for (const combo of combos) {
    for (const place of ["main", "worker"] as const) {
      const stallMs = combo.backend === "webgpu" ? 180_000 : 60_000;
      const results = await runPlan(
        {
          ...combo,
          place,
          cases: CASES.map((c) => c.id),
          modelsDir: values.models!,
          runs,
          maxMs,
        },
        stallMs,
        env,
      );
      for (const result of results) {
        table.set(
          `${combo.backend}/${combo.threads}/${place}/${result.id}`,
          result,
        );
      }
    }
  }

  const header = ["model (median ms per run)"];
  for (const combo of combos) {
    const name = combo.backend === "webgpu"
      ? "webgpu"
      : `${combo.backend} t${combo.threads}`;
    header.push(`${name} main`, `${name} worker`);
  }
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
  ];
  for (const benchCase of CASES) {
    const row = [benchCase.id];
    for (const combo of combos) {
      for (const place of ["main", "worker"] as const) {
        row.push(
          cell(
            table.get(
              `${combo.backend}/${combo.threads}/${place}/${benchCase.id}`,
            ),
            place,
          ),
        );
      }
    }
    lines.push(`| ${row.join(" | ")} |`);
  }
  console.log(lines.join("\n"));
  console.log(
    "\nworker cells: time of run() inside the worker (rt = median round trip from the main thread: copy input, transfer, run, reply)",
  );
  const notes = new Set([...table.values()].flatMap((r) => r.log ?? []));
  for (const note of notes) console.log(`log: ${note}`);
}

if (import.meta.main) await main();
