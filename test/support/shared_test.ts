/**
 * Without the shared data, a test module that needs it stops with one line
 * saying what is missing and how to get it, not with raw NotFound errors.
 *
 * @module
 */
import assert from "node:assert/strict";

const SHARED_MODULE = new URL("./shared.ts", import.meta.url).href;

Deno.test("a test module without ../shared stops with one line naming what is missing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "no_shared_" });
  try {
    const file = `${dir}/needs_shared_test.ts`;
    await Deno.writeTextFile(
      file,
      `import { loadGroundTruth } from ${JSON.stringify(SHARED_MODULE)};\n` +
        `Deno.test("uses media", async () => { await loadGroundTruth(); });\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-prompt", "--allow-read", "--allow-env", file],
      env: { DASHCAM_SHARED_DIR: `${dir}/shared`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, text);
    const lines = text.split("\n").filter((l) =>
      l.startsWith("tests: missing")
    );
    assert.equal(lines.length, 1, text);
    assert.match(lines[0], new RegExp(`${dir}/shared/models/MODELS\\.md`));
    assert.match(lines[0], /media\/ground_truth\.json/);
    assert.match(lines[0], /models install/);
    assert.doesNotMatch(text, /NotFound|No such file/, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
