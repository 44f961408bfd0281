/**
 * One small abstraction over three ONNX Runtime backends, usable on the main
 * thread and inside module Web Workers:
 *
 * - `native`: `onnxruntime-node`, CPU execution provider (needs
 *   `--allow-read --allow-ffi`).
 * - `wasm`: `onnxruntime-web`, WebAssembly CPU (needs `--allow-read`).
 * - `webgpu`: `onnxruntime-web/webgpu`, used only when
 *   `navigator.gpu.requestAdapter()` returns an adapter. `auto` asks for one
 *   only where a GPU device node exists (see {@linkcode GPU_DEVICE_PATHS}):
 *   on a machine without a GPU, Mesa's software adapter costs time and
 *   prints a warning to stderr.
 *
 * The runtime packages are imported lazily, so a wasm-only run never loads
 * the native addon and a native run never loads the WebAssembly module.
 * Tensors cross this boundary as our own plain {@linkcode Tensor} type.
 *
 * @module
 */

/** An inference backend. */
export type Backend = "native" | "wasm" | "webgpu";

/** A backend choice as written in the config: `auto` picks one at start. */
export type BackendChoice = "auto" | Backend;

/** The backends, in the order `auto` prefers them when a real GPU exists. */
export const BACKENDS: readonly Backend[] = ["webgpu", "native", "wasm"];

/** A plain tensor: flat row-major data plus its dimensions. */
export interface Tensor {
  /** Element type. */
  type: "float32" | "uint8";
  /** Flat data, `dims` multiplied together elements long. */
  data: Float32Array | Uint8Array;
  /** Dimensions, outermost first. */
  dims: number[];
}

/** A loaded model on one backend. */
export interface InferenceSession {
  /** The backend that actually runs the model (after any fallback). */
  backend: Backend;
  /** The model's input names, in graph order. */
  inputNames: string[];
  /** The model's output names, in graph order. */
  outputNames: string[];
  /** Runs the model on `feeds` (input name -> tensor); returns every output. */
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Frees the native or WebAssembly memory held by the session. */
  release(): Promise<void>;
}

/** Options for {@linkcode createInferenceSession}. */
export interface CreateInferenceSessionOptions {
  /**
   * Backend to use. `auto` takes `webgpu` when a hardware GPU adapter exists
   * (a software adapter such as Mesa's llvmpipe does not count; on Linux
   * the adapter is only looked for where one of
   * {@linkcode GPU_DEVICE_PATHS} exists), else `native`, else `wasm` when `onnxruntime-node` cannot load.
   * The lookup is done once per thread or worker.
   */
  backend: BackendChoice;
  /**
   * CPU threads for one `run`: `intraOpNumThreads` for `native`,
   * `ort.env.wasm.numThreads` for `wasm` (fixed by the first wasm session of
   * the thread or worker). `webgpu` always starts its CPU part with 1 thread
   * (Deno cannot start its thread pool). The wasm default is 1 because with
   * 2 threads a run sometimes never returns (seen about once in 30-100 runs).
   * @default {navigator.hardwareConcurrency for native, 1 for wasm}
   */
  threads?: number;
  /** Receives one line for each fallback or notable choice. @default {no logging} */
  log?: (msg: string) => void;
}

type NativeOrt = typeof import("onnxruntime-node");
type WebOrt = typeof import("onnxruntime-web");

/** Minimal view of an ORT session shared by onnxruntime-node and -web. */
interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** Minimal view of an ORT output tensor. */
interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** Constructor of an ORT tensor, shared by both packages. */
type OrtTensorCtor = new (
  type: "float32" | "uint8",
  data: Float32Array | Uint8Array,
  dims: readonly number[],
) => unknown;

/** Matches adapter descriptions of software (CPU) WebGPU implementations. */
const SOFTWARE_ADAPTER =
  /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

/** `numThreads` each web bundle started with, in this thread or worker. */
const wasmThreads = new Map<"wasm" | "webgpu", number>();

/**
 * Loads an ONNX model on the chosen backend.
 *
 * @example Run the OCR model on the native backend
 * ```ts ignore
 * import { createInferenceSession } from "./inference.ts";
 * import assert from "node:assert/strict";
 * const session = await createInferenceSession("models/cct_xs_v2_global.onnx", { backend: "native", threads: 1 });
 * const out = await session.run({
 *   input: { type: "uint8", data: new Uint8Array(64 * 128 * 3), dims: [1, 64, 128, 3] },
 * });
 * assert.deepEqual(out.plate.dims, [1, 10, 37]);
 * await session.release();
 * ```
 * @param modelPath Path of the `.onnx` file.
 * @param options Backend, threads and a log callback.
 * @returns A session whose `backend` tells which backend was used.
 * @throws {Error} When the model file is missing, the runtime cannot load, or
 * the file is not a valid model; the message is one line naming the file.
 */
export async function createInferenceSession(
  modelPath: string,
  options: CreateInferenceSessionOptions,
): Promise<InferenceSession> {
  const { backend, threads, log = () => {} } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(
      `Cannot create inference session as 'threads' must be an integer >= 1: current value is ${threads}`,
    );
  }
  if (backend !== "auto" && !BACKENDS.includes(backend)) {
    throw new TypeError(
      `Cannot create inference session as 'backend' must be auto, native, wasm or webgpu: current value is ${
        String(backend)
      }`,
    );
  }
  await assertModelFile(modelPath);

  let chosen: Backend;
  if (backend === "webgpu") {
    const adapter = await findGpuAdapter();
    if (adapter.adapter === undefined) {
      log(`webgpu unavailable (${adapter.reason}): using wasm instead`);
      chosen = "wasm";
    } else {
      if (adapter.software) {
        log(
          `webgpu adapter is software (${adapter.description}): expect CPU speed or worse`,
        );
      }
      chosen = "webgpu";
    }
  } else if (backend === "auto") {
    const adapter = await findAutoGpuAdapter();
    if (adapter.adapter !== undefined && !adapter.software) {
      chosen = "webgpu";
    } else {
      chosen = "native";
      if (adapter.adapter !== undefined && !autoSkipLogged) {
        autoSkipLogged = true;
        log(
          `auto backend skips webgpu: adapter is software (${adapter.description})`,
        );
      }
    }
  } else {
    chosen = backend;
  }

  if (chosen === "native") {
    let ort: NativeOrt;
    try {
      ort = await import("onnxruntime-node");
    } catch (error) {
      const reason = oneLine(error);
      if (backend === "native") {
        throw new Error(
          `Cannot load onnxruntime-node (needs --allow-read --allow-ffi): ${reason}`,
        );
      }
      log(`onnxruntime-node cannot load (${reason}): using wasm instead`);
      return await createWebSession(modelPath, "wasm", threads ?? 1, log);
    }
    return await createNativeSession(ort, modelPath, threads ?? cpuCount());
  }
  return await createWebSession(modelPath, chosen, threads ?? 1, log);
}

function cpuCount(): number {
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

async function assertModelFile(modelPath: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(modelPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot load model: ${modelPath} not found (install with: deno task dashcam models install)`,
      );
    }
    throw new Error(
      `Cannot load model: ${modelPath} not readable: ${oneLine(error)}`,
    );
  }
  if (!info.isFile) {
    throw new Error(`Cannot load model: ${modelPath} is not a file`);
  }
}

/** Result of looking for a WebGPU adapter. */
interface GpuAdapterLookup {
  adapter?: GPUAdapter;
  software: boolean;
  description: string;
  reason: string;
}

let gpuLookup: Promise<GpuAdapterLookup> | undefined;
let autoGpuLookup: Promise<GpuAdapterLookup> | undefined;
/** Whether "auto backend skips webgpu" was said in this thread or worker. */
let autoSkipLogged = false;

/**
 * Device nodes through which Linux programs reach a GPU: DRM render nodes
 * (`/dev/dri/renderD128` to `renderD191`: Intel, AMD, Arm Mali/Panfrost,
 * Nvidia through its DRM module), Nvidia's proprietary driver
 * (`/dev/nvidia0` to `nvidia15`), Jetson (`/dev/nvhost-ctrl-gpu`,
 * `/dev/nvhost-gpu`, `/dev/nvgpu`), Arm Mali's own driver (`/dev/mali0`),
 * Qualcomm Adreno (`/dev/kgsl-3d0`) and WSL2's GPU bridge (`/dev/dxg`).
 * Control nodes such as `/dev/nvidiactl` or `/dev/dri/card0` do not count:
 * they exist without a usable GPU too.
 */
export const GPU_DEVICE_PATHS: readonly string[] = [
  ...Array.from({ length: 64 }, (_, i) => `/dev/dri/renderD${128 + i}`),
  ...Array.from({ length: 16 }, (_, i) => `/dev/nvidia${i}`),
  "/dev/nvhost-ctrl-gpu",
  "/dev/nvhost-gpu",
  "/dev/nvgpu",
  "/dev/mali0",
  "/dev/kgsl-3d0",
  "/dev/dxg",
];

/**
 * Tells which of `paths` exist, with libc's `access()` through FFI: Deno
 * refuses to stat or list anything under `/dev` without `--allow-all`,
 * while `--allow-ffi` (which the native backend needs anyway) allows this.
 *
 * @example
 * ```ts ignore
 * import { existingPaths } from "./inference.ts";
 * console.log(existingPaths(["/dev/null", "/dev/dri/renderD128"])); // ["/dev/null"] on a server
 * ```
 * @param paths Absolute paths.
 * @returns The paths that exist, in order, or undefined when libc cannot be
 * opened (no `--allow-ffi`, not Linux, an unknown libc).
 */
export function existingPaths(
  paths: readonly string[],
): string[] | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const symbols = {
    access: { parameters: ["buffer", "i32"], result: "i32" },
  } as const;
  // glibc, then musl (Alpine).
  const names = ["libc.so.6", `libc.musl-${Deno.build.arch}.so.1`];
  for (const name of names) {
    let libc: Deno.DynamicLibrary<typeof symbols>;
    try {
      libc = Deno.dlopen(name, symbols);
    } catch {
      continue;
    }
    try {
      const encoder = new TextEncoder();
      const F_OK = 0;
      return paths.filter((path) =>
        libc.symbols.access(encoder.encode(`${path}\0`), F_OK) === 0
      );
    } finally {
      libc.close();
    }
  }
  return undefined;
}

/**
 * The adapter lookup for `auto`, once per thread or worker. On Linux it is
 * skipped where none of {@linkcode GPU_DEVICE_PATHS} exists; elsewhere, or
 * where that cannot be checked, the adapter is asked for.
 */
function findAutoGpuAdapter(): Promise<GpuAdapterLookup> {
  autoGpuLookup ??= lookUpAutoGpuAdapter();
  return autoGpuLookup;
}

async function lookUpAutoGpuAdapter(): Promise<GpuAdapterLookup> {
  const nodes = existingPaths(GPU_DEVICE_PATHS);
  if (nodes !== undefined && nodes.length === 0) {
    return {
      software: false,
      description: "",
      reason: "no GPU device node in /dev",
    };
  }
  return await findGpuAdapter();
}

/** Looks for a WebGPU adapter once per thread or worker. */
function findGpuAdapter(): Promise<GpuAdapterLookup> {
  gpuLookup ??= lookUpGpuAdapter();
  return gpuLookup;
}

async function lookUpGpuAdapter(): Promise<GpuAdapterLookup> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu === undefined) {
    return {
      software: false,
      description: "",
      reason: "navigator.gpu is not defined",
    };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return {
      software: false,
      description: "",
      reason: `requestAdapter() failed: ${oneLine(error)}`,
    };
  }
  if (adapter === null) {
    return {
      software: false,
      description: "",
      reason: "requestAdapter() returned no adapter",
    };
  }
  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.device]
    .concat(info.description)
    .filter((part) => part !== "" && part !== "0")
    .join(" ");
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const software = fallback === true || SOFTWARE_ADAPTER.test(description);
  return { adapter, software, description, reason: "" };
}

async function createNativeSession(
  ort: NativeOrt,
  modelPath: string,
  threads: number,
): Promise<InferenceSession> {
  let session: OrtSessionLike;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      // The memory pattern plans one block for all of a run's intermediate
      // tensors, kept per input shape: the vehicle detector's input follows
      // the frame's aspect and the OCR's batch its plates, so plans pile up.
      // Without it, peak RSS of `process` on the 7 media clips was 303 and
      // 307 MiB against 319 and 330 MiB, at the same CPU time.
      enableMemPattern: false,
      // Spin-waiting threads double every run when sessions share the CPU.
      extra: {
        session: {
          intra_op: { allow_spinning: "0" },
          inter_op: { allow_spinning: "0" },
        },
      },
    });
  } catch (error) {
    throw new Error(`Cannot load model: ${modelPath}: ${oneLine(error)}`);
  }
  return wrapSession(session, ort.Tensor as unknown as OrtTensorCtor, "native");
}

async function createWebSession(
  modelPath: string,
  backend: "wasm" | "webgpu",
  threads: number,
  log: (msg: string) => void,
): Promise<InferenceSession> {
  const restoreLocation = backend === "webgpu" ? hideOpaqueLocation() : noop;
  // Starting the WebAssembly runtime replaces globalThis.Worker with Node's
  // worker_threads Worker (Emscripten's Node glue), after which
  // `new Worker(url, { type: "module" })` starts a worker without `self`.
  // Its thread pool is created while the first session starts (no worker is
  // created later), so the web Worker is put back afterwards.
  const webWorker = globalThis.Worker;
  try {
    const ort: WebOrt = backend === "webgpu"
      ? await import("onnxruntime-web/webgpu")
      : await import("onnxruntime-web");
    return await startWebSession(ort, modelPath, backend, threads, log);
  } finally {
    restoreLocation();
    if (globalThis.Worker !== webWorker) globalThis.Worker = webWorker;
  }
}

async function startWebSession(
  ort: WebOrt,
  modelPath: string,
  backend: "wasm" | "webgpu",
  threads: number,
  log: (msg: string) => void,
): Promise<InferenceSession> {
  // numThreads takes effect when the WebAssembly module starts, i.e. at the
  // first session of this thread or worker; later values are ignored. The
  // webgpu bundle only starts single-threaded in Deno: its thread pool loads
  // from a blob: URL, which Deno refuses.
  const wanted = backend === "webgpu" ? 1 : threads;
  const started = wasmThreads.get(backend);
  if (started === undefined) {
    ort.env.wasm.numThreads = wanted;
    wasmThreads.set(backend, wanted);
  } else if (started !== wanted) {
    log(
      `wasm threads stay at ${started} (set by the first session in this worker), not ${threads}`,
    );
  }
  ort.env.logLevel = "error";
  const bytes = await Deno.readFile(modelPath);
  let session: OrtSessionLike;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [backend],
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw new Error(`Cannot load model: ${modelPath}: ${oneLine(error)}`);
  }
  return wrapSession(session, ort.Tensor as unknown as OrtTensorCtor, backend);
}

function noop(): void {}

/**
 * Inside a Deno worker started from a file: URL, `location.origin` is the
 * string "null", and the webgpu bundle computes
 * `new URL(itsOwnUrl, location.origin)`, which throws "Invalid URL ... with
 * base 'null'". While the bundle loads and starts its first session, the
 * global `location` is replaced by undefined (as on Deno's main thread, which
 * has none); the returned function puts the worker's `location` back.
 */
function hideOpaqueLocation(): () => void {
  const scope = globalThis as { location?: { origin?: string } };
  if (scope.location?.origin !== "null") return noop;
  const saved = Object.getOwnPropertyDescriptor(globalThis, "location");
  if (saved === undefined || !saved.configurable) return noop;
  Object.defineProperty(globalThis, "location", {
    value: undefined,
    configurable: true,
    writable: true,
  });
  return () => {
    Object.defineProperty(globalThis, "location", saved);
  };
}

function wrapSession(
  session: OrtSessionLike,
  TensorCtor: OrtTensorCtor,
  backend: Backend,
): InferenceSession {
  return {
    backend,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    async run(feeds) {
      const ortFeeds: Record<string, unknown> = {};
      for (const [name, tensor] of Object.entries(feeds)) {
        ortFeeds[name] = new TensorCtor(tensor.type, tensor.data, tensor.dims);
      }
      const results = await session.run(ortFeeds);
      const out: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(results)) {
        out[name] = fromOrtTensor(name, value);
      }
      return out;
    },
    async release() {
      await session.release();
    },
  };
}

function fromOrtTensor(name: string, value: OrtTensorLike): Tensor {
  const dims = [...value.dims];
  if (value.type === "float32" && value.data instanceof Float32Array) {
    return { type: "float32", data: value.data, dims };
  }
  if (value.type === "uint8" && value.data instanceof Uint8Array) {
    return { type: "uint8", data: value.data, dims };
  }
  throw new TypeError(
    `Cannot read model output '${name}': type ${value.type} is not supported (float32 or uint8 only)`,
  );
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").map((line) => line.trim()).filter((line) =>
    line !== ""
  )[0] ?? "unknown error";
}
