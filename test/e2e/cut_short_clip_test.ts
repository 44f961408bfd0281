/**
 * A clip cut short (a power cut while the camera wrote it): `process` keeps
 * the events of the part that decodes and marks the clip done with a warning
 * naming the decoded fraction, in `video_metadata` and in `status`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDashcam } from "../support/cli.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";
import { ffmpeg } from "../support/clips.ts";

/** A real 4.67 s 1280x720 clip (not one of ../shared/cases). */
const ROUNDABOUT = `${SHARED_MEDIA}/clips/uk_roundabout_approach.mp4`;

Deno.test("process on a clip cut short keeps its events and marks it done with the decoded fraction", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cut_short_test_" });
  try {
    // Index at the start (as cameras that survive power cuts write it),
    // then the file ends at 60% of its bytes.
    const whole = join(dir, "whole.mp4");
    await ffmpeg([
      "-i",
      ROUNDABOUT,
      "-c",
      "copy",
      "-movflags",
      "+faststart",
      whole,
    ]);
    const bytes = await Deno.readFile(whole);
    const clip = join(dir, "20240501_101500_cut.mp4");
    await Deno.writeFile(
      clip,
      bytes.subarray(0, Math.floor(bytes.length * 0.6)),
    );
    const dataDir = join(dir, "data");
    const out = await runDashcam([
      "process",
      "--json",
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      clip,
    ]);
    assert.equal(out.code, 0, out.stderr);
    const plates = out.stdout.trim().split("\n").filter((l) =>
      l.startsWith("{")
    )
      .map((l) => JSON.parse(l).finalPlate);
    assert.deepEqual(plates, ["LS15EBC"], out.stdout);
    const note = /cut short: decoded (\d+) of (\d+) frames \((\d+)%\)/;
    assert.match(out.stderr, note);
    assert.ok(out.stderr.includes(clip), out.stderr);

    const text = await runDashcam(["status", "--data-dir", dataDir]);
    assert.equal(text.code, 0, text.stderr);
    const line = text.stdout.split("\n").find((l) => l.startsWith("warning:"));
    assert.ok(line, text.stdout);
    assert.ok(line.includes(clip), line);
    const [, n, of, pct] = note.exec(line)!.map(Number);
    // Sampled at the default 5 fps: 23 frames in 4.67 s; 60% of the bytes.
    assert.equal(of, 23, line);
    assert.ok(n >= 5 && n < 20, line);
    assert.equal(pct, Math.floor((100 * n) / of), line);

    const json = await runDashcam(["status", "--json", "--data-dir", dataDir]);
    const report = JSON.parse(json.stdout);
    assert.equal(report.videos.done, 1);
    assert.equal(report.warnings.length, 1);
    assert.equal(report.warnings[0].path, clip);
    assert.match(report.warnings[0].note, note);
    // The fraction is kept as a number too (video_metadata.decoded_fraction).
    assert.equal(
      report.warnings[0].decoded_fraction,
      Math.round((1000 * n) / of) / 1000,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
