import assert from "node:assert/strict";
import {
  createInferenceSession,
  type Tensor,
} from "../../src/vision/inference.ts";

const OCR_MODEL = "/work/shared/models/cct_xs_v2_global.onnx";

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
  const native = await runOcr("native");
  const wasm = await runOcr("wasm");
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
          "Cannot load model: /nonexistent/dir/missing_model.onnx not found (install with: deno task dashcam models install --from DIR)",
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
