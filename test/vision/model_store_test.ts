import assert from "node:assert/strict";
import { join } from "node:path";
import { SHARED_MODELS, TEST_MODELS } from "../support/shared.ts";
import type { Manifest } from "../../src/vision/model_manifest.ts";
import {
  assertModelsReady,
  checkModels,
  installModels,
  loadManifest,
  makeDerivedModels,
  resolveModel,
} from "../../src/vision/model_store.ts";
import { startModelMirror, upstreamFiles } from "../support/model_mirror.ts";

const V2 = "cct_xs_v2_global.onnx";
const V2_YAML = "cct_xs_v2_global_plate_config.yaml";
const V1 = "cct_xs_v1_global.onnx";
const V1_YAML = "default_latin_plate_config.yaml";

/** The real manifest cut down to the two small OCR models. */
async function ocrOnlyManifest(): Promise<Manifest> {
  const manifest = await loadManifest();
  return {
    version: manifest.version,
    models: manifest.models.filter((model) => model.task === "ocr"),
  };
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "model_store_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`installModels()` copies the default OCR model and its config, then skips them", async () => {
  await withTempDir(async (dir) => {
    const manifest = await ocrOnlyManifest();
    const to = join(dir, "models");
    const first = await installModels(manifest, { from: SHARED_MODELS, to });
    assert.deepEqual(first, {
      installed: [V2, V2_YAML],
      skipped: [],
      missing: [],
      corrupt: [],
      failed: [],
      derived: [],
      sources: {},
      fallback: [],
    });
    assert.deepEqual(await listDir(to), [V2, V2_YAML]);
    const original = await Deno.readFile(join(SHARED_MODELS, V2_YAML));
    assert.deepEqual(await Deno.readFile(join(to, V2_YAML)), original);
    assert.equal((await Deno.stat(join(to, V2))).size, 3344292);

    const second = await installModels(manifest, { from: SHARED_MODELS, to });
    assert.deepEqual(second.installed, []);
    assert.deepEqual(second.skipped, [V2, V2_YAML]);

    const all = await installModels(manifest, {
      from: SHARED_MODELS,
      to,
      only: "all",
    });
    assert.deepEqual(all.installed, [V1, V1_YAML]);
    assert.deepEqual(all.skipped, [V2, V2_YAML]);
    assert.deepEqual(
      await checkModels(manifest, { dir: to, only: "all" }),
      { ok: [V2, V2_YAML, V1, V1_YAML], missing: [], corrupt: [] },
    );
  });
});

Deno.test("`checkModels()` finds a corrupted copy and `installModels()` replaces it", async () => {
  await withTempDir(async (dir) => {
    const manifest = await ocrOnlyManifest();
    await installModels(manifest, { from: SHARED_MODELS, to: dir });
    const path = join(dir, V2);
    const bytes = await Deno.readFile(path);
    bytes[1000] ^= 0xff; // same size, different content
    await Deno.writeFile(path, bytes);

    const report = await checkModels(manifest, { dir });
    assert.deepEqual(report.ok, [V2_YAML]);
    assert.deepEqual(report.missing, []);
    assert.equal(report.corrupt.length, 1);
    assert.equal(report.corrupt[0].file, V2);
    assert.match(
      report.corrupt[0].reason,
      /^sha256 [0-9a-f]{64}, expected 8031afb5fdc6b4d80462c9d542f1284ebd2cfddf5dbacd62609848d7e2855f44$/,
    );
    await assert.rejects(
      assertModelsReady(manifest, { dir }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^Cannot use models: ${path} is corrupt: sha256 [0-9a-f]{64}, expected 8031afb5.* \\(install with: deno task dashcam models install\\)$`,
          ),
        );
        return true;
      },
    );

    const fixed = await installModels(manifest, {
      from: SHARED_MODELS,
      to: dir,
    });
    assert.deepEqual(fixed.installed, [V2]);
    assert.deepEqual(fixed.skipped, [V2_YAML]);
    await assertModelsReady(manifest, { dir });
  });
});

Deno.test("`checkModels()` reports a truncated file by its size and a missing one by name", async () => {
  await withTempDir(async (dir) => {
    const manifest = await ocrOnlyManifest();
    await installModels(manifest, { from: SHARED_MODELS, to: dir });
    await Deno.truncate(join(dir, V2), 100);
    await Deno.remove(join(dir, V2_YAML));
    const report = await checkModels(manifest, { dir });
    assert.deepEqual(report, {
      ok: [],
      missing: [V2_YAML],
      corrupt: [{ file: V2, reason: "size 100 bytes, expected 3344292" }],
    });
    await assert.rejects(assertModelsReady(manifest, { dir }), {
      message: `Cannot use models: ${
        join(dir, V2)
      } is corrupt: size 100 bytes, expected 3344292 (install with: deno task dashcam models install)`,
    });
    await installModels(manifest, { from: SHARED_MODELS, to: dir });
    await Deno.remove(join(dir, V2_YAML));
    await assert.rejects(assertModelsReady(manifest, { dir }), {
      message: `Cannot use models: ${
        join(dir, V2_YAML)
      } not found (install with: deno task dashcam models install)`,
    });
  });
});

Deno.test("`installModels()` refuses a corrupt source file and leaves nothing behind", async () => {
  await withTempDir(async (dir) => {
    const from = join(dir, "usb");
    const to = join(dir, "models");
    await Deno.mkdir(from);
    const yaml = await Deno.readFile(join(SHARED_MODELS, V2_YAML));
    yaml[0] ^= 0x01;
    await Deno.writeFile(join(from, V2_YAML), yaml);
    const manifest = await ocrOnlyManifest();
    const report = await installModels(manifest, { from, to });
    assert.deepEqual(report.installed, []);
    assert.deepEqual(report.missing, [V2]);
    assert.equal(report.corrupt.length, 1);
    assert.equal(report.corrupt[0].file, V2_YAML);
    assert.match(
      report.corrupt[0].reason,
      /^sha256 [0-9a-f]{64}, expected 0335c74a/,
    );
    assert.deepEqual(await listDir(to), []);
  });
});

Deno.test("`loadManifest()` names the file when it is not valid JSON or not a manifest", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "models.json");
    await Deno.writeTextFile(path, "{ not json");
    await assert.rejects(loadManifest({ path }), (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.ok(
        error.message.startsWith(`Cannot parse model manifest ${path}: `),
      );
      assert.ok(!error.message.includes("\n"));
      return true;
    });
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, models: 3 }));
    await assert.rejects(loadManifest({ path }), {
      message:
        `Cannot parse model manifest: 'models' must be an array: current value is 3 (in ${path})`,
    });
    await assert.rejects(loadManifest({ path: join(dir, "absent.json") }), (
      error: Error,
    ) => {
      assert.ok(
        error.message.startsWith(
          `Cannot read model manifest ${join(dir, "absent.json")}: `,
        ),
      );
      return true;
    });
  });
});

Deno.test("`checkModels()` finds every file of models/models.json intact where the tests install them", async () => {
  const manifest = await loadManifest();
  const report = await checkModels(manifest, {
    dir: TEST_MODELS,
    only: "all",
  });
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.corrupt, []);
  assert.deepEqual(report.ok, [
    "yolox_nano.onnx",
    "coco_classes.txt",
    "yolox_nano_vehicles_dynamic.onnx",
    "yolox_nano_dynamic.onnx",
    "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx",
    "yolo-v9-t-416-license-plates-end2end-fp32.onnx",
    "yolo-v9-t-416-license-plates-end2end1.onnx",
    "plate_detection_yolo26_e2e_640.onnx",
    "license_plate_detector_yolov8n_int8_320.onnx",
    V2,
    V2_YAML,
    V1,
    V1_YAML,
  ]);
});

/** The real manifest cut down to the vehicle detectors (yolox_nano and its derived twin). */
async function vehicleManifest(): Promise<Manifest> {
  const manifest = await loadManifest();
  return {
    version: manifest.version,
    models: manifest.models.filter((model) => model.task === "vehicle_detect"),
  };
}

const noWait = { retries: 1, sleep: () => Promise.resolve() };

Deno.test("`installModels()` downloads the upstream file, makes the derived model and verifies it", async () => {
  const manifest = await vehicleManifest();
  const mirror = await startModelMirror(upstreamFiles(manifest));
  try {
    await withTempDir(async (dir) => {
      const report = await installModels(manifest, {
        to: dir,
        mirror: mirror.base,
        download: noWait,
      });
      assert.deepEqual(report.installed, [
        "yolox_nano.onnx",
        "coco_classes.txt",
      ]);
      assert.deepEqual(report.derived, ["yolox_nano_vehicles_dynamic.onnx"]);
      assert.deepEqual(report.failed, []);
      assert.deepEqual(await listDir(dir), [
        "coco_classes.txt",
        "yolox_nano.onnx",
        "yolox_nano_vehicles_dynamic.onnx",
      ]);
      await assertModelsReady(manifest, { dir });
      // Only the upstream file was fetched, through the mirror's path.
      assert.deepEqual(mirror.requests.map((r) => r.path), [
        "/Kazuhito00/YOLOX-ONNX-TFLite-Sample/raw/3d4f1119d0694200671c08069ecb847aa0d8495a/model/yolox_nano.onnx",
        "/Kazuhito00/YOLOX-ONNX-TFLite-Sample/raw/3d4f1119d0694200671c08069ecb847aa0d8495a/coco_classes.txt",
      ]);
    });
  } finally {
    await mirror.close();
  }
});

Deno.test("a derived model that cannot be made falls back to its upstream file with a warning naming the cost", async () => {
  const manifest = await vehicleManifest();
  const derived = manifest.models.find((m) => m.derive)!;
  derived.sha256 = "0".repeat(64); // what this build makes is not what is pinned
  const mirror = await startModelMirror(upstreamFiles(manifest));
  try {
    await withTempDir(async (dir) => {
      const report = await installModels(manifest, {
        to: dir,
        mirror: mirror.base,
        download: noWait,
      });
      assert.deepEqual(report.derived, []);
      assert.equal(report.fallback.length, 1);
      assert.equal(report.fallback[0].file, "yolox_nano_vehicles_dynamic.onnx");
      assert.equal(report.fallback[0].source, "yolox_nano.onnx");
      assert.match(
        report.fallback[0].reason,
        /^sha256 56404ae5[0-9a-f]{56}, expected 0{64}$/,
      );
      assert.equal(report.fallback[0].standIn, "yolox_nano.onnx");
      assert.equal(report.fallback[0].cost, derived.derive!.fallbackCost);
      assert.deepEqual(await listDir(dir), [
        "coco_classes.txt",
        "yolox_nano.onnx",
      ]);

      const warnings: string[] = [];
      const entry = await resolveModel(manifest, "vehicle_detect", {
        dir,
        warn: (m) => warnings.push(m),
      });
      assert.equal(entry.file, "yolox_nano.onnx");
      assert.deepEqual(warnings, [
        `Using ${
          join(dir, "yolox_nano.onnx")
        } instead of the derived yolox_nano_vehicles_dynamic.onnx (${
          join(dir, "yolox_nano_vehicles_dynamic.onnx")
        } not found): ${
          derived.derive!.fallbackCost
        }; make it with: deno task dashcam models install`,
      ]);
      await assertModelsReady(manifest, { dir }); // starts instead of refusing

      await Deno.remove(join(dir, "yolox_nano.onnx"));
      await assert.rejects(
        resolveModel(manifest, "vehicle_detect", { dir }),
        {
          message: `Cannot use models: ${
            join(dir, "yolox_nano_vehicles_dynamic.onnx")
          } not found (install with: deno task dashcam models install)`,
        },
      );
    });
  } finally {
    await mirror.close();
  }
});

Deno.test("`installModels()` with a blocked host: one failure per file naming the URL, the installed files untouched, nothing half-written", async () => {
  const manifest = await ocrOnlyManifest();
  const mirror = await startModelMirror([]);
  const blocked = mirror.base;
  await mirror.close(); // nothing listens there any more
  await withTempDir(async (dir) => {
    await installModels(manifest, { from: SHARED_MODELS, to: dir });
    const before = await Deno.stat(join(dir, V2));
    const report = await installModels(manifest, {
      to: dir,
      only: "all",
      mirror: blocked,
      download: noWait,
    });
    assert.deepEqual(report.skipped, [V2, V2_YAML]);
    assert.deepEqual(report.installed, []);
    assert.deepEqual(report.failed.map((f) => f.file), [V1, V1_YAML]);
    const v1 = manifest.models.find((m) => m.file === V1)!;
    assert.ok(
      report.failed[0].reason.startsWith(
        `${blocked}${new URL(v1.url!).pathname}: `,
      ),
      report.failed[0].reason,
    );
    assert.match(report.failed[0].reason, /onnection refused/);
    assert.ok(report.failed.every((f) => !f.reason.includes("\n")));
    assert.deepEqual(await listDir(dir), [V2, V2_YAML]);
    assert.deepEqual(
      (await Deno.stat(join(dir, V2))).mtime,
      before.mtime,
    );
  });
});

Deno.test({
  name:
    "`installModels()` on a full disk: the download fails naming the error and leaves nothing behind",
  ignore: Deno.uid() !== 0, // mounting a small tmpfs needs root (CI runs as root)
  async fn() {
    const manifest = await vehicleManifest();
    const mirror = await startModelMirror(upstreamFiles(manifest));
    try {
      await withTempDir(async (dir) => {
        const mount = await new Deno.Command("mount", {
          args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
        }).output();
        assert.equal(mount.code, 0, new TextDecoder().decode(mount.stderr));
        try {
          const report = await installModels(manifest, {
            to: dir,
            mirror: mirror.base,
            download: noWait,
          });
          assert.deepEqual(report.installed, ["coco_classes.txt"]); // 625 bytes fit
          assert.deepEqual(report.derived, []);
          assert.equal(report.failed.length, 1);
          assert.match(
            report.failed[0].reason,
            /^http:\/\/127\.0\.0\.1:\d+\/.*yolox_nano\.onnx: No space left on device/,
          );
          assert.deepEqual(await listDir(dir), ["coco_classes.txt"]);
        } finally {
          await new Deno.Command("umount", { args: [dir] }).output();
        }
      });
    } finally {
      await mirror.close();
    }
  },
});

Deno.test("`installModels()` from a folder with only the upstream files makes the derived model", async () => {
  await withTempDir(async (dir) => {
    const manifest = await vehicleManifest();
    const usb = join(dir, "usb");
    await Deno.mkdir(usb);
    for (const file of ["yolox_nano.onnx", "coco_classes.txt"]) {
      await Deno.copyFile(join(SHARED_MODELS, file), join(usb, file));
    }
    const to = join(dir, "models");
    const report = await installModels(manifest, { from: usb, to });
    assert.deepEqual(report.installed, ["yolox_nano.onnx", "coco_classes.txt"]);
    assert.deepEqual(report.derived, ["yolox_nano_vehicles_dynamic.onnx"]);
    assert.deepEqual(report.missing, []);
    await assertModelsReady(manifest, { dir: to });
  });
});

Deno.test("`makeDerivedModels()` remakes a missing or corrupt derived model offline, leaves an intact one alone, and notes one it cannot write", async () => {
  await withTempDir(async (dir) => {
    const manifest = await vehicleManifest();
    const derived = "yolox_nano_vehicles_dynamic.onnx";
    for (const file of ["yolox_nano.onnx", "coco_classes.txt"]) {
      await Deno.copyFile(join(SHARED_MODELS, file), join(dir, file));
    }
    // Missing: made, and nothing else in the folder changes.
    assert.deepEqual(await makeDerivedModels(manifest, { dir }), {
      derived: [derived],
      sources: { [derived]: "yolox_nano.onnx" },
      fallback: [],
    });
    await assertModelsReady(manifest, { dir });
    const made = await Deno.stat(join(dir, derived));
    // Intact: left alone.
    assert.deepEqual(await makeDerivedModels(manifest, { dir }), {
      derived: [],
      sources: {},
      fallback: [],
    });
    assert.deepEqual((await Deno.stat(join(dir, derived))).mtime, made.mtime);
    // Cut short (a power cut during a copy by hand): made again.
    await Deno.truncate(join(dir, derived), 1000);
    assert.deepEqual(
      (await makeDerivedModels(manifest, { dir })).derived,
      [derived],
    );
    assert.deepEqual((await checkModels(manifest, { dir })).corrupt, []);
    // Cannot be written (a directory in its place): one note, one line.
    await Deno.remove(join(dir, derived));
    await Deno.mkdir(join(dir, derived));
    const blocked = await makeDerivedModels(manifest, { dir });
    assert.deepEqual(blocked.derived, []);
    assert.equal(blocked.fallback.length, 1);
    assert.equal(blocked.fallback[0].file, derived);
    assert.equal(blocked.fallback[0].source, "yolox_nano.onnx");
    assert.equal(blocked.fallback[0].standIn, "yolox_nano.onnx");
    assert.ok(blocked.fallback[0].reason.length > 0);
    assert.ok(!blocked.fallback[0].reason.includes("\n"));
    assert.deepEqual(
      (await listDir(dir)).filter((name) => name.endsWith(".tmp")),
      [],
    );
    // No upstream file: nothing to make from, nothing noted.
    await Deno.remove(join(dir, derived));
    await Deno.remove(join(dir, "yolox_nano.onnx"));
    assert.deepEqual(await makeDerivedModels(manifest, { dir }), {
      derived: [],
      sources: {},
      fallback: [],
    });
  });
});

Deno.test("`makeDerivedModels()` makes a derived default from the older derivation an earlier build left, without its upstream file", async () => {
  await withTempDir(async (dir) => {
    const manifest = await loadManifest();
    // As `models install --from ../shared/models` of the build before left
    // it: the previous defaults copied as they were, no upstream files.
    for (
      const file of [
        "yolox_nano_dynamic.onnx",
        "yolo-v9-t-416-license-plates-end2end-fp32.onnx",
      ]
    ) {
      await Deno.copyFile(join(SHARED_MODELS, file), join(dir, file));
    }
    const report = await makeDerivedModels(manifest, { dir });
    assert.deepEqual(report.sources, {
      "yolox_nano_vehicles_dynamic.onnx": "yolox_nano_dynamic.onnx",
      "yolo-v9-t-416-license-plates-end2end-fp32-dynamic.onnx":
        "yolo-v9-t-416-license-plates-end2end-fp32.onnx",
    });
    assert.deepEqual(report.fallback, []);
    const check = await checkModels(manifest, { dir, only: "all" });
    assert.deepEqual(check.corrupt, []);
    for (const file of Object.keys(report.sources)) {
      assert.ok(check.ok.includes(file), file);
    }
  });
});

Deno.test("`resolveModel()` lets a model derived from the same file stand in before the upstream file, only when it finds every class", async () => {
  await withTempDir(async (dir) => {
    const manifest = await vehicleManifest();
    for (const file of ["yolox_nano.onnx", "coco_classes.txt"]) {
      await Deno.copyFile(join(SHARED_MODELS, file), join(dir, file));
    }
    await Deno.copyFile(
      join(TEST_MODELS, "yolox_nano_dynamic.onnx"),
      join(dir, "yolox_nano_dynamic.onnx"),
    );
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    // The vehicle-only default is missing: all 80 classes, same weights.
    const entry = await resolveModel(manifest, "vehicle_detect", { dir, warn });
    assert.equal(entry.file, "yolox_nano_dynamic.onnx");
    assert.deepEqual(warnings, [
      `Using ${
        join(dir, "yolox_nano_dynamic.onnx")
      } instead of the derived yolox_nano_vehicles_dynamic.onnx (${
        join(dir, "yolox_nano_vehicles_dynamic.onnx")
      } not found): the same weights, derived from the same file; make it with: deno task dashcam models install`,
    ]);
    // The other way round, the vehicle-only model cannot stand in for all
    // 80 classes: the upstream file does.
    await Deno.remove(join(dir, "yolox_nano_dynamic.onnx"));
    await Deno.copyFile(
      join(TEST_MODELS, "yolox_nano_vehicles_dynamic.onnx"),
      join(dir, "yolox_nano_vehicles_dynamic.onnx"),
    );
    const all = await resolveModel(manifest, "vehicle_detect", {
      dir,
      file: "yolox_nano_dynamic.onnx",
    });
    assert.equal(all.file, "yolox_nano.onnx");
  });
});

Deno.test("a derived model that cannot be made from an older derivation names that file as its source and as what stands in", async () => {
  await withTempDir(async (dir) => {
    const manifest = await vehicleManifest();
    const derived = "yolox_nano_vehicles_dynamic.onnx";
    // An older build's folder: the all-class derivation, no upstream file;
    // the new default cannot be written (a directory in its place).
    await Deno.copyFile(
      join(TEST_MODELS, "yolox_nano_dynamic.onnx"),
      join(dir, "yolox_nano_dynamic.onnx"),
    );
    await Deno.copyFile(
      join(SHARED_MODELS, "coco_classes.txt"),
      join(dir, "coco_classes.txt"),
    );
    await Deno.mkdir(join(dir, derived));
    const report = await makeDerivedModels(manifest, { dir });
    assert.deepEqual(report.derived, []);
    assert.equal(report.fallback.length, 1);
    const note = report.fallback[0];
    assert.deepEqual(
      [note.file, note.source, note.standIn, note.cost],
      [
        derived,
        "yolox_nano_dynamic.onnx",
        "yolox_nano_dynamic.onnx",
        "the same weights, derived from the same file",
      ],
    );
    // The all-class model, from the vehicle-only one alone: other bytes
    // than pinned, and a vehicle-only model cannot stand in for it.
    await Deno.remove(join(dir, derived));
    await Deno.remove(join(dir, "yolox_nano_dynamic.onnx"));
    await Deno.copyFile(join(TEST_MODELS, derived), join(dir, derived));
    const all = await makeDerivedModels(manifest, { dir, only: "all" });
    assert.deepEqual(all.derived, []);
    assert.deepEqual(
      all.fallback.map((n) => [n.file, n.source, n.standIn, n.cost]),
      [["yolox_nano_dynamic.onnx", derived, null, ""]],
    );
    assert.equal(
      all.fallback[0].reason,
      "Cannot set the dims of 'output': dim 2 is 9 in the graph, 85 in the manifest",
    );
  });
});
