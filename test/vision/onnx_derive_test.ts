import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { findModel } from "../../src/vision/model_manifest.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import {
  dequantizeConvInteger,
  deriveModel,
  deriveOptions,
  makeAnchorsDynamic,
  makeDimsSymbolic,
  selectClasses,
} from "../../src/vision/onnx_derive.ts";
import { VEHICLE_CLASS_IDS } from "../../src/vision/assign.ts";
import { Detector } from "../../src/vision/models.ts";
import { iou } from "../../src/vision/nms.ts";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { SHARED_MEDIA, SHARED_MODELS, TEST_MODELS } from "../support/shared.ts";

const FIXED_PLATES = "yolo-v9-t-416-license-plates-end2end-fp32.onnx";
const FREE_PLATES = "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx";

const manifest = await loadManifest();
const sha256 = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");

for (
  const [task, file] of [
    ["vehicle_detect", "yolox_nano_vehicles_dynamic.onnx"],
    ["vehicle_detect", "yolox_nano_dynamic.onnx"],
    ["plate_detect", "yolo-v9-t-416-license-plates-end2end-fp32.onnx"],
    ["plate_detect", "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx"],
  ] as const
) {
  Deno.test(`\`deriveModel()\` makes ${file} from its upstream file byte for byte, the same every run`, async () => {
    const entry = findModel(manifest, task, { file });
    assert.ok(entry.derive);
    const upstream = await Deno.readFile(
      join(SHARED_MODELS, entry.derive.from),
    );
    const options = deriveOptions(entry);
    const first = deriveModel(upstream, entry.derive.recipe, options);
    assert.equal(first.length, entry.bytes);
    assert.equal(sha256(first), entry.sha256);
    // A shared derived file (made with Python's onnx) is the same bytes.
    const shared = await Deno.readFile(join(SHARED_MODELS, file)).catch(
      () => null,
    );
    if (shared !== null) assert.deepEqual(first, shared);
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

Deno.test("`makeAnchorsDynamic()`: the plate detector gives the fixed graph's output at 416x416, and the same plates at 416x256", async () => {
  const load = {
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  } as const;
  const fixed = await Detector.load(
    findModel(manifest, "plate_detect", { file: FIXED_PLATES }),
    load,
  );
  const free = await Detector.load(
    findModel(manifest, "plate_detect", { file: FREE_PLATES }),
    load,
  );
  try {
    // The same 416x416 input: the computed anchors are the constants.
    const data = new Float32Array(3 * 416 * 416);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 256) / 255;
    const input = { images: { type: "float32", data, dims: [1, 3, 416, 416] } };
    const a = await fixed.session.run(input as never);
    const b = await free.session.run(input as never);
    assert.deepEqual(b.output0.dims, a.output0.dims);
    assert.deepEqual(Array.from(b.output0.data), Array.from(a.output0.data));
    // 16:9 dashcam stills at 416x256: every plate the fixed detector finds
    // is found in the same place (within about one input pixel).
    const dir = join(SHARED_MEDIA, "stills", "ro_dashcam");
    const files = [...Deno.readDirSync(dir)]
      .filter((f) => f.name.endsWith(".jpg")).map((f) => f.name).sort();
    assert.ok(files.length >= 10);
    let plates = 0;
    for (const name of files) {
      const img = await decodeImageFile(join(dir, name));
      assert.deepEqual(free.inputSize(img), { width: 416, height: 256 });
      const want = (await fixed.detect(img)).filter((d) => d.score >= 0.5);
      const got = await free.detect(img);
      for (const d of want) {
        const best = Math.max(0, ...got.map((g) => iou(g.box, d.box)));
        assert.ok(best >= 0.5, `${name}: plate at ${d.box} found, IoU ${best}`);
        plates++;
      }
    }
    assert.ok(plates >= files.length, `${plates} plates`);
  } finally {
    await fixed.session.release();
    await free.session.release();
  }
});

Deno.test("`makeAnchorsDynamic()` refuses, in one line, a graph that is not a head with a grid of anchors", async () => {
  const inputs = [{ name: "images", dims: [1, 3, "height", "width"] }];
  const yolox = await Deno.readFile(join(SHARED_MODELS, "yolox_nano.onnx"));
  assert.throws(() => makeAnchorsDynamic(yolox, { inputs }), {
    message: "Cannot make the anchors dynamic: opset 11 is older than 13",
  });
  const ocr = await Deno.readFile(join(SHARED_MODELS, "cct_xs_v2_global.onnx"));
  assert.throws(
    () =>
      makeAnchorsDynamic(ocr, { inputs: [{ ...inputs[0], name: "input" }] }),
    /^Error: Cannot make the anchors dynamic: the graph has no anchor constant \[1, 2, A\] with a stride constant \[1, A\]$/,
  );
  // The plate detector with its anchor grid shifted by one cell: refused,
  // not rewritten into a detector that decodes boxes in other places.
  const proto = fromBinary(
    ModelProtoSchema,
    await Deno.readFile(join(SHARED_MODELS, FIXED_PLATES)),
  );
  const anchors = proto.graph!.initializer.find((t) =>
    t.dims.length === 3 && Number(t.dims[1]) === 2
  )!;
  const values = new Float32Array(anchors.rawData.slice().buffer);
  values[0] += 1;
  anchors.rawData = new Uint8Array(values.buffer);
  assert.throws(
    () => makeAnchorsDynamic(toBinary(ModelProtoSchema, proto), { inputs }),
    {
      message:
        `Cannot make the anchors dynamic: 0 of the anchor constants '${anchors.name}' are the grid of cell centres of a 416x416 input at their strides, expected 1`,
    },
  );
  const plates = await Deno.readFile(join(SHARED_MODELS, FIXED_PLATES));
  const wrong = [{ name: "input", dims: [1, 3, "height", "width"] }];
  assert.throws(() => makeAnchorsDynamic(plates, { inputs: wrong }), {
    message: "Cannot make the anchors dynamic: the graph has no input 'input'",
  });
});

const FULL_VEHICLES = "yolox_nano_dynamic.onnx";
const ONLY_VEHICLES = "yolox_nano_vehicles_dynamic.onnx";

Deno.test("`selectClasses()`: the vehicle-only YOLOX gives the full model's box, objectness and vehicle columns bit for bit, and the same vehicles on dashcam stills", async () => {
  const load = {
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  } as const;
  const fullEntry = findModel(manifest, "vehicle_detect", {
    file: FULL_VEHICLES,
  });
  const onlyEntry = findModel(manifest, "vehicle_detect", {
    file: ONLY_VEHICLES,
  });
  assert.deepEqual(onlyEntry.classIds, [...VEHICLE_CLASS_IDS]);
  const full = await Detector.load(fullEntry, load);
  const only = await Detector.load(onlyEntry, load);
  try {
    const data = new Float32Array(3 * 288 * 512);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
    const input = { images: { type: "float32", data, dims: [1, 3, 288, 512] } };
    const a = (await full.session.run(input as never)).output;
    const b = (await only.session.run(input as never)).output;
    const rows = a.dims[1];
    assert.deepEqual(a.dims, [1, rows, 85]);
    assert.deepEqual(b.dims, [1, rows, 9]);
    const columns = [0, 1, 2, 3, 4, ...VEHICLE_CLASS_IDS.map((c) => 5 + c)];
    const fullData = a.data as Float32Array;
    const onlyData = b.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      columns.forEach((col, k) => {
        if (!Object.is(onlyData[r * 9 + k], fullData[r * 85 + col])) {
          assert.fail(`row ${r} column ${col}: ${onlyData[r * 9 + k]}`);
        }
      });
    }
    // The same detections, with COCO class ids, on the dashcam stills.
    const dir = join(SHARED_MEDIA, "stills", "ro_dashcam");
    const files = [...Deno.readDirSync(dir)]
      .filter((f) => f.name.endsWith(".jpg")).map((f) => f.name).sort();
    let vehicles = 0;
    for (const name of files) {
      const img = await decodeImageFile(join(dir, name));
      const classIds = [...VEHICLE_CLASS_IDS];
      const want = await full.detect(img, { classIds });
      assert.deepEqual(await only.detect(img, { classIds }), want, name);
      assert.deepEqual(await only.detect(img), want, name);
      vehicles += want.length;
    }
    assert.ok(vehicles >= files.length, `${vehicles} vehicles`);
  } finally {
    await full.session.release();
    await only.session.release();
  }
});

Deno.test("`selectClasses()` refuses, in one line, class ids that do not fit and a graph that is not a YOLOX head", async () => {
  const yolox = await Deno.readFile(join(SHARED_MODELS, "yolox_nano.onnx"));
  const cases: Array<[readonly number[] | undefined, string]> = [
    [[2, 80], "Cannot select classes: class id 80 is not in 0..79"],
    [[2, 2.5], "Cannot select classes: class id 2.5 is not in 0..79"],
    [[2, 7, 2], "Cannot select classes: class ids 2, 7, 2 repeat one"],
    [[], "Cannot select classes: no class ids given"],
    [undefined, "Cannot select classes: no class ids given"],
  ];
  for (const [classIds, message] of cases) {
    assert.throws(() => selectClasses(yolox, { classIds }), { message });
  }
  const plates = await Deno.readFile(join(SHARED_MODELS, FIXED_PLATES));
  assert.throws(() => selectClasses(plates, { classIds: [0] }), {
    message:
      "Cannot select classes: output 'output0' is not [1, N, 5 + classes] with a fixed row length",
  });
  // Twice: the first step's output already has 9 columns, so class 7 no longer fits.
  assert.throws(
    () =>
      deriveModel(yolox, ["select_classes", "select_classes"], {
        classIds: [2, 3, 5, 7],
      }),
    { message: "Cannot select classes: class id 5 is not in 0..3" },
  );
});
