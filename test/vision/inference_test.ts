import assert from "node:assert/strict";
import { deadline } from "../../src/shared/mod.ts";
import {
  createInferenceSession,
  existingPaths,
  GPU_DEVICE_PATHS,
  type Tensor,
} from "../../src/vision/inference.ts";
import type {
  FromBenchWorker,
  ToBenchWorker,
} from "../bench/inference_backends_worker.ts";
import { runScript } from "../support/script.ts";
import { SHARED_MODELS } from "../support/shared.ts";
import { tinyConvInput, tinyConvModel } from "../support/tiny_model.ts";

const OCR_MODEL = `${SHARED_MODELS}/cct_xs_v2_global.onnx`;

function zeroPlateBatch(): Record<string, Tensor> {
  return {
    input: {
      type: "uint8",
      data: new Uint8Array(64 * 128 * 3),
      dims: [1, 64, 128, 3],
    },
  };
}

async function runOcr(
  backend: "native" | "wasm",
): Promise<Record<string, Tensor>> {
  const session = await createInferenceSession(OCR_MODEL, {
    backend,
    threads: 1,
  });
  try {
    assert.equal(session.backend, backend);
    assert.deepEqual(session.inputNames, ["input"]);
    assert.deepEqual(session.outputNames, ["plate", "region"]);
    return await session.run(zeroPlateBatch());
  } finally {
    await session.release();
  }
}

function maxAbsDiff(
  a: Float32Array | Uint8Array,
  b: Float32Array | Uint8Array,
) {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function assertSoftmaxRows(data: Float32Array | Uint8Array, rowLength: number) {
  for (let row = 0; row < data.length / rowLength; row++) {
    let sum = 0;
    for (let j = 0; j < rowLength; j++) sum += data[row * rowLength + j];
    assert.ok(Math.abs(sum - 1) < 1e-3, `row ${row} sums to ${sum}`);
  }
}

Deno.test("`createInferenceSession()` runs the OCR model on native and wasm with the same outputs", async () => {
  const webWorker = globalThis.Worker;
  const native = await runOcr("native");
  const wasm = await runOcr("wasm");
  // The wasm runtime swaps in Node's Worker class; the session puts ours back.
  assert.equal(globalThis.Worker, webWorker);
  for (const out of [native, wasm]) {
    assert.equal(out.plate.type, "float32");
    assert.deepEqual(out.plate.dims, [1, 10, 37]);
    assert.equal(out.plate.data.length, 370);
    assert.deepEqual(out.region.dims, [1, 66]);
    assert.equal(out.region.data.length, 66);
    // Each slot and the region head are softmax outputs.
    assertSoftmaxRows(out.plate.data, 37);
    assertSoftmaxRows(out.region.data, 66);
  }
  assert.ok(maxAbsDiff(native.plate.data, wasm.plate.data) < 1e-3);
  assert.ok(maxAbsDiff(native.region.data, wasm.region.data) < 1e-3);
});

Deno.test("`createInferenceSession()` runs a batch of 3 and keeps the batch dimension", async () => {
  const session = await createInferenceSession(OCR_MODEL, {
    backend: "native",
    threads: 1,
  });
  try {
    const data = new Uint8Array(3 * 64 * 128 * 3);
    data.fill(255, 64 * 128 * 3); // items 1 and 2 white, item 0 black
    const out = await session.run({
      input: { type: "uint8", data, dims: [3, 64, 128, 3] },
    });
    assert.deepEqual(out.plate.dims, [3, 10, 37]);
    const item = (i: number) => out.plate.data.subarray(i * 370, (i + 1) * 370);
    assert.equal(maxAbsDiff(item(1), item(2)), 0);
    assert.ok(maxAbsDiff(item(0), item(1)) > 1e-3);
  } finally {
    await session.release();
  }
});

Deno.test("`createInferenceSession()` gives a one-line error naming the file when the model is missing", async () => {
  for (const backend of ["native", "wasm", "auto"] as const) {
    await assert.rejects(
      createInferenceSession("/nonexistent/dir/missing_model.onnx", {
        backend,
      }),
      (error: Error) => {
        assert.equal(
          error.message,
          "Cannot load model: /nonexistent/dir/missing_model.onnx not found (install with: deno task dashcam models install)",
        );
        return true;
      },
    );
  }
});

Deno.test("`createInferenceSession()` rejects a file that is not an ONNX model with one line naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/broken.onnx`;
    await Deno.writeTextFile(path, "this is not a model");
    await assert.rejects(
      createInferenceSession(path, { backend: "native", threads: 1 }),
      (error: Error) => {
        assert.ok(error.message.startsWith(`Cannot load model: ${path}: `));
        assert.ok(!error.message.includes("\n"));
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`createInferenceSession()` rejects a bad backend or thread count", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    createInferenceSession(OCR_MODEL, { backend: "cuda" as any }),
    /'backend' must be auto, native, wasm or webgpu: current value is cuda/,
  );
  await assert.rejects(
    createInferenceSession(OCR_MODEL, { backend: "native", threads: 0 }),
    /'threads' must be an integer >= 1: current value is 0/,
  );
});

/**
 * Most time one step of a worker session (init, run, release) may take: a
 * bound on a hang (a software WebGPU adapter has been seen to stall), not a
 * speed figure; the slowest step here (llvmpipe init) takes a few seconds.
 */
const WORKER_STEP_LIMIT_MS = 120_000;

/**
 * Loads the OCR model in the bench's module worker and runs one batch (CPU
 * backends only: see the WebGPU step below).
 */
function runOcrInWorker(
  backend: "native" | "wasm",
): Promise<
  { backend: string; log: string[]; outputs: Record<string, Tensor> }
> {
  return runInWorker(backend, OCR_MODEL, zeroPlateBatch());
}

/** Loads a model in the bench's module worker and runs it once on `feeds`. */
async function runInWorker(
  backend: "native" | "wasm" | "webgpu",
  model: string,
  feeds: Record<string, Tensor>,
): Promise<
  { backend: string; log: string[]; outputs: Record<string, Tensor> }
> {
  const worker = new Worker(
    new URL("../bench/inference_backends_worker.ts", import.meta.url),
    { type: "module" },
  );
  const replies: Array<(data: FromBenchWorker) => void> = [];
  worker.onmessage = (event: MessageEvent<FromBenchWorker>) =>
    replies.shift()?.(event.data);
  const ask = (message: ToBenchWorker) =>
    deadline(
      new Promise<FromBenchWorker>((resolve) => {
        replies.push(resolve);
        worker.postMessage(message);
      }),
      WORKER_STEP_LIMIT_MS,
      { what: `${backend} worker '${message.type}'` },
    );
  try {
    const ready = await ask({ type: "init", model, backend, threads: 1 });
    assert.equal(ready.type, "ready", JSON.stringify(ready));
    const ran = await ask({ type: "run", id: 1, feeds });
    assert.equal(ran.type, "ran", JSON.stringify(ran));
    assert.equal((await ask({ type: "release" })).type, "released");
    if (ready.type !== "ready" || ran.type !== "ran") {
      throw new Error("unreachable");
    }
    return { backend: ready.backend, log: ready.log, outputs: ran.outputs };
  } finally {
    worker.terminate();
  }
}

Deno.test("`createInferenceSession()` works inside a module worker on native, wasm and webgpu", async () => {
  const reference = await runOcr("native");
  // A wasm session on this thread first: workers must still start as module
  // workers afterwards.
  await runOcr("wasm");
  for (const backend of ["native", "wasm"] as const) {
    const result = await runOcrInWorker(backend);
    assert.equal(result.backend, backend);
    assert.deepEqual(result.outputs.plate.dims, [1, 10, 37]);
    assert.ok(
      maxAbsDiff(result.outputs.plate.data, reference.plate.data) < 1e-3,
    );
  }
  // webgpu runs where an adapter exists (here often Mesa's software
  // llvmpipe); otherwise the session falls back to wasm and says why. On
  // llvmpipe the OCR model's first run compiles its shaders for minutes
  // when the shader cache is cold (a fresh CI machine: over 120 s on a
  // 2-core AVX2 EPYC), so this step runs a tiny graph made here, against
  // the native result of the same graph.
  const adapter = await deadline(
    Promise.resolve(navigator.gpu?.requestAdapter()),
    WORKER_STEP_LIMIT_MS,
    { what: "WebGPU requestAdapter" },
  ).catch(() => null);
  const dir = await Deno.makeTempDir();
  try {
    const tiny = `${dir}/tiny_conv.onnx`;
    await Deno.writeFile(tiny, tinyConvModel());
    const native = await runInWorker("native", tiny, tinyConvInput());
    const result = await runInWorker("webgpu", tiny, tinyConvInput());
    if (adapter) {
      assert.equal(result.backend, "webgpu");
    } else {
      assert.equal(result.backend, "wasm");
      assert.match(
        result.log[0],
        /^webgpu unavailable \(.+\): using wasm instead$/,
      );
    }
    assert.deepEqual(result.outputs.y.dims, [1, 4, 8, 8]);
    assertSoftmaxRows(transposeChannelsLast(result.outputs.y), 4);
    assert.ok(maxAbsDiff(result.outputs.y.data, native.outputs.y.data) < 1e-4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `[1, C, H, W]` data as `[H * W, C]` rows (one softmax row per pixel). */
function transposeChannelsLast(t: Tensor): Float32Array {
  const [, c, h, w] = t.dims;
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) out[p * c + ch] = t.data[ch * h * w + p];
  }
  return out;
}

Deno.test("`GPU_DEVICE_PATHS` holds render, Nvidia, Jetson, Mali, Adreno and WSL2 nodes but no control nodes", () => {
  for (
    const path of [
      "/dev/dri/renderD128",
      "/dev/dri/renderD191",
      "/dev/nvidia0",
      "/dev/nvidia15",
      "/dev/nvhost-ctrl-gpu",
      "/dev/nvgpu",
      "/dev/mali0",
      "/dev/kgsl-3d0",
      "/dev/dxg",
    ]
  ) {
    assert.ok(GPU_DEVICE_PATHS.includes(path), path);
  }
  for (
    const path of [
      "/dev/dri/card0",
      "/dev/nvidiactl",
      "/dev/nvidia-uvm",
      "/dev/nvidia-modeset",
      "/dev/dri/renderD127",
      "/dev/dri/renderD192",
    ]
  ) {
    assert.ok(!GPU_DEVICE_PATHS.includes(path), path);
  }
  assert.equal(GPU_DEVICE_PATHS.length, 64 + 16 + 6);
});

Deno.test("`existingPaths()` keeps exactly the paths that exist, device nodes included", async () => {
  assert.deepEqual(
    existingPaths(["/dev/null", "/nonexistent/device", "/dev/zero", "/dev"]),
    ["/dev/null", "/dev/zero", "/dev"],
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/renderD128`, "");
    await Deno.writeTextFile(`${dir}/nvidia0`, "");
    assert.deepEqual(
      existingPaths([
        `${dir}/renderD128`,
        `${dir}/renderD129`,
        `${dir}/nvidia0`,
        `${dir}/nvgpu`,
      ]),
      [`${dir}/renderD128`, `${dir}/nvidia0`],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`createInferenceSession()` with auto asks for a WebGPU adapter only where a GPU device node exists", async () => {
  const nodes = existingPaths(GPU_DEVICE_PATHS);
  assert.ok(nodes !== undefined);
  // Two auto sessions in a fresh process without XDG_RUNTIME_DIR, where
  // Mesa's adapter lookup prints "error: XDG_RUNTIME_DIR is invalid ...",
  // and with the daemon's permissions (no --allow-all: /dev cannot be
  // listed).
  const module = new URL("../../src/vision/inference.ts", import.meta.url);
  const script = `
    import { createInferenceSession } from ${JSON.stringify(module.href)};
    const lines = [];
    const backends = [];
    for (let i = 0; i < 2; i++) {
      const session = await createInferenceSession(Deno.args[0], {
        backend: "auto",
        threads: 1,
        log: (msg) => lines.push(msg),
      });
      backends.push(session.backend);
      await session.release();
    }
    console.log(JSON.stringify({ lines, backends }));
  `;
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const out = await runScript(script, {
    flags: ["--allow-read", "--allow-ffi", "--allow-env"],
    args: [OCR_MODEL],
    env,
  });
  const stderr = out.stderr;
  assert.ok(out.success, stderr);
  const result = JSON.parse(out.stdout);
  if (nodes.length === 0) {
    assert.deepEqual(result, { lines: [], backends: ["native", "native"] });
    assert.ok(!stderr.includes("XDG_RUNTIME_DIR"), stderr);
  } else {
    // A GPU machine: webgpu on a hardware adapter, else native with at most
    // one line for the thread.
    assert.equal(result.backends[0], result.backends[1]);
    assert.ok(["webgpu", "native"].includes(result.backends[0]));
    assert.ok(result.lines.length <= 1, JSON.stringify(result.lines));
  }
});
