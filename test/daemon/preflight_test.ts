/**
 * The daemon refuses to start, with one line and exit code 78 (which the
 * unit's `RestartPreventExitStatus=` lists), when models or ffmpeg are
 * missing, instead of being restarted every 2 s for ever.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkReady,
  EX_CONFIG,
  makeMissingModels,
} from "../../src/daemon/preflight.ts";
import { findModel, selectModels } from "../../src/vision/model_manifest.ts";
import { checkModels, loadManifest } from "../../src/vision/model_store.ts";
import { runDashcam } from "../support/cli.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";
import { TEST_MODELS } from "../support/shared.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "preflight_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Our lines on stderr (Deno's own "Info Failed to resolve 'ffmpeg' for allow-run" notes left out). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) =>
    l.trim() !== "" && !/^Info\b/.test(l)
  );
}

Deno.test("`run` without models exits 78 with one line naming a missing model and the install command", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/models`);
    const out = await runDashcam([
      "run",
      "--data-dir",
      `${dir}/data`,
      "--models-dir",
      `${dir}/models`,
    ], { env: { NO_COLOR: "1" } });
    assert.equal(out.code, EX_CONFIG, out.stderr);
    const lines = errorLines(out.stderr);
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], new RegExp(`${dir}/models/\\S+\\.onnx not found`));
    assert.match(lines[0], /models install/);
    // Nothing was opened: no data dir, no databases.
    await assert.rejects(Deno.stat(`${dir}/data`), Deno.errors.NotFound);
  });
});

Deno.test("`run` without ffmpeg on PATH exits 78 with one line saying so", async () => {
  await withTempDir(async (dir) => {
    const out = await runDashcam([
      "run",
      "--data-dir",
      `${dir}/data`,
      "--models-dir",
      TEST_MODELS,
    ], { env: { PATH: `${dir}/empty-bin`, NO_COLOR: "1" } });
    assert.equal(out.code, EX_CONFIG, out.stderr);
    const lines = errorLines(out.stderr);
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], /ffmpeg not found on PATH/);
    assert.match(lines[0], /ffprobe not found on PATH/);
    assert.match(lines[0], /apt-get install -y ffmpeg/);
  });
});

Deno.test("checkReady skips the model check for custom stage handlers and reports each program", async () => {
  await withTempDir(async (dir) => {
    const config = testConfig(dir, {
      handlers_module: TRIVIAL_HANDLERS,
      models_dir: `${dir}/no-models`,
    });
    assert.deepEqual(await checkReady(config, { programs: ["ffmpeg"] }), []);
    const problems = await checkReady(config, {
      programs: ["ffmpeg", "dashcam-no-such-program"],
    });
    assert.equal(problems.length, 2, String(problems));
    assert.match(problems[0], /dashcam-no-such-program not found on PATH/);
    const withModels = await checkReady(
      testConfig(dir, { models_dir: `${dir}/no-models` }),
      { programs: [] },
    );
    assert.ok(
      withModels.some((p) => /\.onnx not found/.test(p)),
      String(withModels),
    );
  });
});

const DERIVED = "yolox_nano_vehicles_dynamic.onnx";

/**
 * A models folder as an update leaves it when its default vehicle detector
 * is a derivation the folder does not hold yet: the other defaults, and the
 * derived model's upstream file instead of it.
 */
async function modelsBeforeUpdate(dir: string): Promise<string> {
  const manifest = await loadManifest();
  const models = join(dir, "models");
  await Deno.mkdir(models);
  for (const entry of selectModels(manifest, "default")) {
    const installed = entry.file === DERIVED && entry.derive
      ? findModel(manifest, entry.task, { file: entry.derive.from })
      : entry;
    for (const file of [installed, ...installed.extraFiles]) {
      await Deno.copyFile(
        join(TEST_MODELS, file.file),
        join(models, file.file),
      );
    }
  }
  return models;
}

Deno.test("checkReady lets an upstream file stand in for a missing derived default, with a warning; makeMissingModels makes it once", async () => {
  await withTempDir(async (dir) => {
    const models = await modelsBeforeUpdate(dir);
    const config = testConfig(dir, { models_dir: models });
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    assert.deepEqual(await checkReady(config, { programs: [], warn }), []);
    assert.equal(warnings.length, 1, String(warnings));
    assert.match(
      warnings[0],
      new RegExp(
        `^Using ${models}/yolox_nano\\.onnx instead of the derived ${DERIVED} \\(${models}/${DERIVED} not found\\)`,
      ),
    );

    const info: string[] = [];
    const report = { info: (m: string) => info.push(m), warn };
    await makeMissingModels(config, report);
    assert.deepEqual(info, [
      `made model ${models}/${DERIVED} from the installed yolox_nano.onnx`,
    ]);
    const check = await checkModels(await loadManifest(), { dir: models });
    assert.deepEqual(check.missing, []);
    assert.deepEqual(check.corrupt, []);
    warnings.length = 0;
    assert.deepEqual(await checkReady(config, { programs: [], warn }), []);
    assert.deepEqual(warnings, []);
    // Already there: nothing is made or reported again.
    await makeMissingModels(config, report);
    assert.equal(info.length, 1);

    // Neither the derived model nor its upstream file: the daemon refuses.
    await Deno.remove(join(models, DERIVED));
    await Deno.remove(join(models, "yolox_nano.onnx"));
    const problems = await checkReady(config, { programs: [], warn });
    assert.equal(problems[0], `model ${models}/${DERIVED} not found`);
    await makeMissingModels(config, report);
    assert.equal(info.length, 1);
  });
});

Deno.test("`run` after an update that brought a new derived default makes it from the installed files before its checks", async () => {
  await withTempDir(async (dir) => {
    const models = await modelsBeforeUpdate(dir);
    // No ffmpeg on PATH: the daemon stops at its checks, after the models step.
    const out = await runDashcam([
      "run",
      "--data-dir",
      `${dir}/data`,
      "--models-dir",
      models,
    ], { env: { PATH: `${dir}/empty-bin`, NO_COLOR: "1" } });
    assert.equal(out.code, EX_CONFIG, out.stderr);
    assert.match(
      out.stderr,
      new RegExp(
        `made model ${models}/${DERIVED} from the installed yolox_nano.onnx`,
      ),
    );
    const lines = errorLines(out.stderr).filter((l) => !/made model/.test(l));
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], /ffmpeg not found on PATH/);
    const check = await checkModels(await loadManifest(), { dir: models });
    assert.deepEqual(check.ok.includes(DERIVED), true);
  });
});
