import assert from "node:assert/strict";
import {
  findModel,
  type Manifest,
  parseManifest,
  selectModels,
  UPSTREAM_URL,
} from "../../src/vision/model_manifest.ts";

const MANIFEST_JSON: unknown = JSON.parse(
  await Deno.readTextFile(new URL("../../models/models.json", import.meta.url)),
);

/** A small valid manifest: one OCR model, built fresh for each test. */
function ocrManifest(): Record<string, unknown> {
  return {
    version: 1,
    models: [{
      file: "ocr.onnx",
      sha256: "a".repeat(64),
      bytes: 10,
      task: "ocr",
      default: true,
      decoder: "plate_slots",
      input: {
        name: "input",
        type: "uint8",
        dims: ["batch", 64, 128, 3],
        layout: "NHWC",
        color: "RGB",
        scale: 1,
        letterbox: "none",
      },
      outputs: [{ name: "plate", dims: ["batch", 9, 37] }],
      ocr: {
        slots: 9,
        alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_",
        padChar: "_",
        plateOutput: "plate",
      },
      licence: "MIT",
      source: "owner/repo@0000000:ocr.onnx",
      url: `https://github.com/owner/repo/raw/${"0".repeat(40)}/ocr.onnx`,
      extraFiles: [],
    }],
  };
}

// deno-lint-ignore no-explicit-any
function firstModel(json: Record<string, unknown>): any {
  return (json.models as unknown[])[0];
}

Deno.test("`parseManifest()` accepts models/models.json with one default per task", () => {
  const manifest = parseManifest(MANIFEST_JSON);
  assert.equal(manifest.models.length, 10);
  const defaults = selectModels(manifest, "default").map((m) => m.file);
  assert.deepEqual(defaults, [
    "yolox_nano_vehicles_dynamic.onnx",
    "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx",
    "cct_xs_v2_global.onnx",
  ]);
  assert.equal(selectModels(manifest, "all").length, 10);
});

Deno.test("`parseManifest()`: every upstream file of models/models.json has a pinned GitHub URL, every derived model an upstream entry", () => {
  const manifest = parseManifest(MANIFEST_JSON);
  for (const model of manifest.models) {
    for (
      const file of model.derive
        ? model.extraFiles
        : [model, ...model.extraFiles]
    ) {
      assert.match(file.url ?? "", UPSTREAM_URL, file.file);
    }
  }
  const derived = manifest.models.filter((m) => m.derive).map((m) => [
    m.file,
    m.derive?.from,
    m.derive?.recipe,
  ]);
  assert.deepEqual(derived, [
    [
      "yolox_nano_vehicles_dynamic.onnx",
      "yolox_nano.onnx",
      ["select_classes", "symbolic_dims"],
    ],
    ["yolox_nano_dynamic.onnx", "yolox_nano.onnx", ["symbolic_dims"]],
    [
      "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx",
      "yolo-v9-t-416-license-plates-end2end1.onnx",
      ["dequantize_conv_integer", "dynamic_anchors"],
    ],
    [
      "yolo-v9-t-416-license-plates-end2end-fp32.onnx",
      "yolo-v9-t-416-license-plates-end2end1.onnx",
      ["dequantize_conv_integer"],
    ],
  ]);
});

Deno.test("`parseManifest()`: a free-size input needs its long side, a fixed one must not have it", () => {
  const detector = (input: Record<string, unknown>) => {
    const json = ocrManifest();
    Object.assign(firstModel(json), {
      task: "plate_detect",
      decoder: "yolo_v9_e2e",
      input: {
        name: "images",
        type: "float32",
        layout: "NCHW",
        color: "RGB",
        scale: 255,
        letterbox: "center",
        pad: 114,
        ...input,
      },
      outputs: [{ name: "output0", dims: ["boxes", 7] }],
      thresholds: { score: 0.25 },
    });
    delete firstModel(json).ocr;
    return json;
  };
  const free = { dims: [1, 3, "height", "width"], multipleOf: 32 };
  const parsed = parseManifest(detector({ ...free, longSide: 416 }));
  assert.equal(parsed.models[0].input.longSide, 416);
  assert.throws(() => parseManifest(detector(free)), {
    message:
      "Cannot parse model manifest: 'models[0].input.longSide' is missing (height and width are free: give the long side in pixels)",
  });
  assert.throws(
    () => parseManifest(detector({ dims: [1, 3, 416, 416], longSide: 416 })),
    {
      message:
        "Cannot parse model manifest: 'models[0].input.longSide' must be absent when height and width are fixed: current value is 416",
    },
  );
});

/** Makes the manifest's first model a derived one. */
function derivedFrom(
  json: Record<string, unknown>,
  from: string,
  recipe: unknown,
): void {
  delete firstModel(json).url;
  firstModel(json).derive = { from, recipe, fallbackCost: "c" };
}

Deno.test("`parseManifest()` checks url and derive", () => {
  const cases: Array<[(json: Record<string, unknown>) => void, string]> = [
    [
      (j) => firstModel(j).url = "https://example.org/ocr.onnx",
      `Cannot parse model manifest: 'models[0].url' must be https://github.com/OWNER/REPO/raw/COMMIT/PATH or https://github.com/OWNER/REPO/releases/download/TAG/FILE: current value is "https://example.org/ocr.onnx"`,
    ],
    [
      (j) => delete firstModel(j).url,
      "Cannot parse model manifest: 'models[0].url' is missing (or give 'derive')",
    ],
    [
      (j) =>
        firstModel(j).derive = {
          from: "x.onnx",
          recipe: "symbolic_dims",
          fallbackCost: "c",
        },
      `Cannot parse model manifest: 'models[0].url' must be absent when 'derive' is given: current value is "https://github.com/owner/repo/raw/0000000000000000000000...`,
    ],
    [
      (j) => derivedFrom(j, "x.onnx", "symbolic_dims"),
      `Cannot parse model manifest: 'models[0].derive.from' must name a model entry with a url: current value is "x.onnx"`,
    ],
    [
      (j) => derivedFrom(j, "x.onnx", "quantize"),
      `Cannot parse model manifest: 'models[0].derive.recipe' must be one of symbolic_dims, dequantize_conv_integer, dynamic_anchors, select_classes: current value is "quantize"`,
    ],
    [
      (j) => derivedFrom(j, "x.onnx", ["dequantize_conv_integer", "quantize"]),
      `Cannot parse model manifest: 'models[0].derive.recipe[1]' must be one of symbolic_dims, dequantize_conv_integer, dynamic_anchors, select_classes: current value is "quantize"`,
    ],
    [
      (j) => derivedFrom(j, "x.onnx", []),
      `Cannot parse model manifest: 'models[0].derive.recipe' must not be empty: current value is []`,
    ],
  ];
  for (const [change, message] of cases) {
    const json = ocrManifest();
    change(json);
    assert.throws(() => parseManifest(json), { message });
  }
});

Deno.test("`parseManifest()` keeps the OCR spec and sha256 of the default OCR model", () => {
  const manifest = parseManifest(MANIFEST_JSON);
  const ocr = findModel(manifest, "ocr");
  assert.equal(ocr.file, "cct_xs_v2_global.onnx");
  assert.equal(
    ocr.sha256,
    "8031afb5fdc6b4d80462c9d542f1284ebd2cfddf5dbacd62609848d7e2855f44",
  );
  assert.equal(ocr.bytes, 3344292);
  assert.equal(ocr.ocr?.slots, 10);
  assert.equal(ocr.ocr?.regions?.length, 66);
  assert.equal(ocr.ocr?.regions?.[61], "United States");
  assert.deepEqual(ocr.extraFiles.map((f) => f.file), [
    "cct_xs_v2_global_plate_config.yaml",
  ]);
  assert.deepEqual(ocr.input.dims, ["batch", 64, 128, 3]);
});

Deno.test("`parseManifest()` keeps the letterbox of each default detector", () => {
  const manifest = parseManifest(MANIFEST_JSON);
  const vehicle = findModel(manifest, "vehicle_detect");
  assert.equal(vehicle.decoder, "yolox");
  assert.equal(vehicle.input.color, "BGR");
  assert.equal(vehicle.input.scale, 1);
  assert.equal(vehicle.input.letterbox, "top-left");
  assert.equal(vehicle.input.pad, 114);
  const plate = findModel(manifest, "plate_detect");
  assert.equal(plate.decoder, "yolo_v9_e2e");
  assert.equal(plate.input.color, "RGB");
  assert.equal(plate.input.scale, 255);
  assert.equal(plate.input.letterbox, "center");
  const alt = findModel(manifest, "plate_detect", {
    file: "plate_detection_yolo26_e2e_640.onnx",
  });
  assert.deepEqual(alt.input.dims, [1, 3, 640, 640]);
});

Deno.test("`findModel()` names the task and the known files when the file is not listed", () => {
  const manifest: Manifest = parseManifest(ocrManifest());
  assert.throws(
    () => findModel(manifest, "ocr", { file: "nope.onnx" }),
    {
      message:
        "Cannot find ocr model nope.onnx in the manifest: known ones are ocr.onnx",
    },
  );
  assert.throws(
    () => findModel(manifest, "plate_detect"),
    { message: "Cannot find a default plate_detect model in the manifest" },
  );
});

Deno.test("`parseManifest()` names the bad key in one line when a value is wrong", () => {
  const cases: Array<[(json: Record<string, unknown>) => void, string]> = [
    [
      (j) => firstModel(j).sha256 = "abc",
      `Cannot parse model manifest: 'models[0].sha256' must be 64 lower-case hex digits: current value is "abc"`,
    ],
    [
      (j) => firstModel(j).bytes = 0,
      "Cannot parse model manifest: 'models[0].bytes' must be an integer >= 1: current value is 0",
    ],
    [
      (j) => firstModel(j).task = "lpr",
      `Cannot parse model manifest: 'models[0].task' must be one of vehicle_detect, plate_detect, ocr: current value is "lpr"`,
    ],
    [
      (j) => firstModel(j).file = "../etc/passwd",
      `Cannot parse model manifest: 'models[0].file' must be a plain file name (letters, digits, . _ -): current value is "../etc/passwd"`,
    ],
    [
      (j) => firstModel(j).input.layout = "CHW",
      `Cannot parse model manifest: 'models[0].input.layout' must be one of NCHW, NHWC: current value is "CHW"`,
    ],
    [
      (j) => firstModel(j).input.dims[1] = -1,
      "Cannot parse model manifest: 'models[0].input.dims[1]' must be an integer >= 0 or a dimension name: current value is -1",
    ],
    [
      (j) => firstModel(j).ocr.plateOutput = "logits",
      `Cannot parse model manifest: 'models[0].ocr.plateOutput' must name one of the outputs: current value is "logits"`,
    ],
    [
      (j) => firstModel(j).decoder = "yolox",
      `Cannot parse model manifest: 'models[0].decoder' does not fit task ocr (plate_slots is the OCR decoder): current value is "yolox"`,
    ],
    [
      (j) => firstModel(j).colour = "RGB",
      "Cannot parse model manifest: 'models[0].colour' is not a known key",
    ],
    [
      (j) => delete firstModel(j).licence,
      "Cannot parse model manifest: 'models[0].licence' must be a non-empty string: current value is undefined",
    ],
    [
      (j) => j.version = 2,
      "Cannot parse model manifest: 'version' must be 1: current value is 2",
    ],
    [
      (j) => j.models = {},
      "Cannot parse model manifest: 'models' must be an array: current value is {}",
    ],
  ];
  for (const [change, message] of cases) {
    const json = ocrManifest();
    change(json);
    assert.throws(() => parseManifest(json), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, message);
      return true;
    });
  }
});

Deno.test("`parseManifest()` rejects two defaults for one task and a file listed twice", () => {
  const twoDefaults = ocrManifest();
  const second = structuredClone(firstModel(twoDefaults));
  second.file = "ocr2.onnx";
  (twoDefaults.models as unknown[]).push(second);
  assert.throws(() => parseManifest(twoDefaults), {
    message:
      "Cannot parse model manifest: 'default' is true for more than one ocr model: ocr.onnx, ocr2.onnx",
  });

  const twice = ocrManifest();
  const copy = structuredClone(firstModel(twice));
  copy.default = false;
  (twice.models as unknown[]).push(copy);
  assert.throws(() => parseManifest(twice), {
    message:
      `Cannot parse model manifest: 'models[1].file' is listed twice: current value is "ocr.onnx"`,
  });
});

Deno.test("`parseManifest()` requires a pad value only with a letterbox", () => {
  const json = ocrManifest();
  firstModel(json).input.letterbox = "center";
  assert.throws(() => parseManifest(json), {
    message:
      "Cannot parse model manifest: 'models[0].input.pad' must be an integer in 0..255: current value is undefined",
  });
  firstModel(json).input.pad = 114;
  assert.equal(parseManifest(json).models[0].input.pad, 114);
});

Deno.test("`parseManifest()` keeps the class ids of the vehicle-only YOLOX and checks them against its decoder, output and recipe", () => {
  const vehicles = findModel(parseManifest(MANIFEST_JSON), "vehicle_detect");
  assert.equal(vehicles.file, "yolox_nano_vehicles_dynamic.onnx");
  assert.deepEqual(vehicles.classIds, [2, 3, 5, 7]);
  assert.equal(
    findModel(parseManifest(MANIFEST_JSON), "vehicle_detect", {
      file: "yolox_nano_dynamic.onnx",
    }).classIds,
    undefined,
  );
  /** The real manifest with the vehicle-only entry changed. */
  const changed = (change: (entry: Record<string, unknown>) => void) => {
    const json = structuredClone(MANIFEST_JSON) as Record<string, unknown>;
    // deno-lint-ignore no-explicit-any
    const entry = (json.models as any[]).find((m) =>
      m.file === "yolox_nano_vehicles_dynamic.onnx"
    );
    change(entry);
    return json;
  };
  const i = (MANIFEST_JSON as { models: { file: string }[] }).models
    .findIndex((m) => m.file === "yolox_nano_vehicles_dynamic.onnx");
  const cases: Array<[(entry: Record<string, unknown>) => void, string]> = [
    [
      (e) => e.classIds = [2, 3, 3, 7],
      `Cannot parse model manifest: 'models[${i}].classIds' must be distinct integers >= 0, at least one: current value is [2,3,3,7]`,
    ],
    [
      (e) => e.classIds = [2, -3, 5, 7],
      `Cannot parse model manifest: 'models[${i}].classIds' must be distinct integers >= 0, at least one: current value is [2,-3,5,7]`,
    ],
    [
      (e) => e.classIds = [],
      `Cannot parse model manifest: 'models[${i}].classIds' must be distinct integers >= 0, at least one: current value is []`,
    ],
    [
      (e) => e.classIds = [2, 3, 5],
      `Cannot parse model manifest: 'models[${i}].outputs[0].dims' must end in 8 (box, objectness and the 3 classIds): current value is [1,"anchors",9]`,
    ],
    [
      (e) => e.decoder = "yolov8",
      `Cannot parse model manifest: 'models[${i}].classIds' is only allowed for the yolox decoder: current value is [2,3,5,7]`,
    ],
    [
      (e) => delete e.classIds,
      `Cannot parse model manifest: 'models[${i}].classIds' is missing (recipe select_classes keeps them)`,
    ],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => parseManifest(changed(change)), { message });
  }
});
