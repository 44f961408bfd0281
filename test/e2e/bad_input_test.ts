/**
 * Bad input through the real CLI: every unusable file gets one line naming
 * it, is recorded as failed, and the good files are still processed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { makeTestClip } from "../support/clips.ts";
import { runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-loglevel", "error", "-y", ...args],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test("process reports each bad clip in one line, marks it failed, and still processes the good one", async () => {
  const root = await Deno.makeTempDir();
  try {
    const good = await makeTestClip(root, "good.mp4", { durationS: 2 });
    const full = await Deno.readFile(
      await makeTestClip(root, "whole.mp4", { durationS: 4 }),
    );
    const truncated = join(root, "truncated.mp4"); // moov atom at the end is cut off
    await Deno.writeFile(
      truncated,
      full.subarray(0, Math.floor(full.length / 2)),
    );
    const empty = join(root, "empty.mp4");
    await Deno.writeFile(empty, new Uint8Array());
    const text = join(root, "notes.mp4");
    await Deno.writeTextFile(text, "this is not a video\n".repeat(100));
    const missing = join(root, "missing.mp4");
    const folder = join(root, "a folder.mp4");
    await Deno.mkdir(folder);
    const dataDir = join(root, "data");
    const config = await writeTrivialConfig(root);
    const bad = [truncated, empty, text, missing, folder];
    const out = await runDashcam([
      "process",
      "--json",
      "--config",
      config,
      good,
      ...bad,
    ]);
    assert.equal(out.code, 1, "exit 1: not every clip finished");
    const events = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.finalPlate).sort(), ["P0", "P1"]);
    const errorLines = out.stderr.split("\n").filter((l) =>
      l.includes("ERROR")
    );
    assert.equal(errorLines.length, bad.length, out.stderr);
    for (const file of bad) {
      const lines = errorLines.filter((l) => l.includes(JSON.stringify(file)));
      assert.equal(lines.length, 1, `one line naming ${file}: ${out.stderr}`);
    }
    assert.match(out.stderr, /empty\.mp4": file is empty/);
    assert.match(out.stderr, /missing\.mp4": file not found/);
    assert.match(out.stderr, /a folder\.mp4": not a regular file/);

    const db = new DatabaseSync(join(dataDir, "pipeline.db"), {
      readOnly: true,
    });
    const rows = db.prepare(
      "SELECT path, status, error FROM video_metadata ORDER BY path",
    ).all();
    db.close();
    assert.equal(rows.length, 6);
    for (const r of rows) {
      if (r.path === good) assert.equal(r.status, "done");
      else {
        assert.equal(r.status, "failed", String(r.path));
        assert.ok(String(r.error).length > 0);
      }
    }
    const status = await runDashcam(["status", "--json", "--config", config]);
    assert.deepEqual(JSON.parse(status.stdout).videos, { done: 1, failed: 5 });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("read handles corrupt, 1-pixel, grayscale and 16-bit images, crowded frames and clips without vehicles", async () => {
  const root = await Deno.makeTempDir();
  try {
    const still =
      `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0056.jpg`; // B144MOS
    const gray = join(root, "gray.png");
    await ffmpeg(["-i", still, "-pix_fmt", "gray", gray]);
    const deep = join(root, "deep16.png");
    await ffmpeg(["-i", still, "-pix_fmt", "rgb48be", deep]);
    const pixel = join(root, "pixel.png");
    await ffmpeg(["-i", still, "-vf", "scale=1:1", "-frames:v", "1", pixel]);
    const corrupt = join(root, "corrupt.jpg");
    const bytes = await Deno.readFile(await Deno.realPath(still));
    await Deno.writeFile(corrupt, bytes.subarray(0, 2000));
    const crowded = join(root, "crowded.png"); // 30 copies of a street scene: 30+ vehicles
    await ffmpeg([
      "-i",
      still,
      "-vf",
      "scale=320:180,loop=29:1:0,tile=6x5",
      "-frames:v",
      "1",
      crowded,
    ]);
    const noVehicles = await makeTestClip(root, "pattern.mp4", {
      durationS: 2,
    });

    const out = await runDashcam([
      "read",
      "--json",
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      join(root, "data"),
      "--log-level",
      "error",
      gray,
      deep,
      pixel,
      corrupt,
      crowded,
      noVehicles,
    ]);
    assert.equal(out.code, 1, "the corrupt file makes the run fail");
    const lines = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const byFile = new Map(lines.map((l) => [l.file, l]));
    assert.deepEqual(
      byFile.get(gray).plates.map((p: { text: string }) => p.text),
      ["B144MOS"],
    );
    assert.deepEqual(
      byFile.get(deep).plates.map((p: { text: string }) => p.text),
      ["B144MOS"],
    );
    assert.deepEqual(byFile.get(pixel).plates, []);
    assert.equal(byFile.get(pixel).error, undefined);
    assert.deepEqual(byFile.get(corrupt).plates, []);
    assert.match(byFile.get(corrupt).error, /corrupt\.jpg/);
    assert.ok(Array.isArray(byFile.get(crowded).plates));
    assert.equal(byFile.get(crowded).error, undefined);
    assert.deepEqual(byFile.get(noVehicles).plates, []);
    assert.equal(byFile.get(noVehicles).error, undefined);
    const errors = out.stderr.trim().split("\n").filter((l) =>
      l.includes("ERROR")
    );
    assert.equal(errors.length, 1, out.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
