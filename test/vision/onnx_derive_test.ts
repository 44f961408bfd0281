import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { findModel } from "../../src/vision/model_manifest.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import {
  dequantizeConvInteger,
  deriveModel,
  makeDimsSymbolic,
} from "../../src/vision/onnx_derive.ts";
import { SHARED_MODELS } from "../support/shared.ts";

const manifest = await loadManifest();
const sha256 = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");

for (
  const [task, file] of [
    ["vehicle_detect", "yolox_nano_dynamic.onnx"],
    ["plate_detect", "yolo-v9-t-416-license-plates-end2end-fp32.onnx"],
  ] as const
) {
  Deno.test(`\`deriveModel()\` makes ${file} from its upstream file byte for byte, the same every run`, async () => {
    const entry = findModel(manifest, task, { file });
    assert.ok(entry.derive);
    const upstream = await Deno.readFile(
      join(SHARED_MODELS, entry.derive.from),
    );
    const options = { inputs: [entry.input], outputs: entry.outputs };
    const first = deriveModel(upstream, entry.derive.recipe, options);
    assert.equal(first.length, entry.bytes);
    assert.equal(sha256(first), entry.sha256);
    // The shared derived file (made with Python's onnx) is the same bytes.
    assert.deepEqual(first, await Deno.readFile(join(SHARED_MODELS, file)));
    const second = deriveModel(upstream, entry.derive.recipe, options);
    assert.equal(sha256(second), entry.sha256);
  });
}

Deno.test("`dequantizeConvInteger()` leaves no ConvInteger and changes nothing in a model without one", async () => {
  const fp32 = await Deno.readFile(
    join(SHARED_MODELS, "yolo-v9-t-416-license-plates-end2end-fp32.onnx"),
  );
  const text = new TextDecoder("latin1").decode(fp32);
  assert.ok(!text.includes("ConvInteger"));
  // Running it again on its own output only renames the producer: same bytes.
  assert.equal(sha256(dequantizeConvInteger(fp32)), sha256(fp32));
});

Deno.test("`deriveModel()` errors are one line naming what does not fit", async () => {
  const yolox = await Deno.readFile(join(SHARED_MODELS, "yolox_nano.onnx"));
  assert.throws(
    () =>
      makeDimsSymbolic(yolox, {
        inputs: [{ name: "images", dims: [1, 3, 320, "w"] }],
      }),
    {
      message:
        "Cannot set the dims of 'images': dim 2 is 416 in the graph, 320 in the manifest",
    },
  );
  assert.throws(
    () => makeDimsSymbolic(yolox, { outputs: [{ name: "nope", dims: [1] }] }),
    {
      message:
        "Cannot set the dims of output 'nope': the graph has no such output",
    },
  );
  assert.throws(
    () =>
      deriveModel(
        new TextEncoder().encode("not a model at all"),
        "symbolic_dims",
      ),
    (error: Error) =>
      /^Cannot read ONNX model: /.test(error.message) &&
      !error.message.includes("\n"),
  );
  assert.throws(
    () => dequantizeConvInteger(new Uint8Array([0x0a, 0x00])),
    /^Error: Cannot read ONNX model: it has no graph$/,
  );
});
