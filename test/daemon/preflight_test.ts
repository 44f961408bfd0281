/**
 * The daemon refuses to start, with one line and exit code 78 (which the
 * unit's `RestartPreventExitStatus=` lists), when models or ffmpeg are
 * missing, instead of being restarted every 2 s for ever.
 *
 * @module
 */
import assert from "node:assert/strict";
import { checkReady, EX_CONFIG } from "../../src/daemon/preflight.ts";
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
