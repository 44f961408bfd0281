/**
 * Scenes that must not give a plate, or must give it once, built with
 * ffmpeg from the media set (other clips than `../shared/cases`), through
 * `process --json` with the real models:
 *
 * - a plate-like label burned into a moving dashcam clip (issue 11 kind 5);
 * - a camera's `ignore_zones` over a real plate, beside a camera without;
 * - a plate cut by the frame's left edge (kind 5: not a shorter plate).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDashcam } from "../support/cli.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-loglevel", "error", "-y", ...args],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** A bold sans font file for drawtext, found by fontconfig. */
async function boldFont(): Promise<string> {
  const out = await new Deno.Command("fc-match", {
    args: ["-f", "%{file}", "DejaVu Sans:bold"],
    stdout: "piped",
  }).output();
  const file = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success && file, "fc-match found no font for drawtext");
  return file;
}

async function processPlates(
  dir: string,
  clips: string[],
  config: Record<string, unknown> = {},
): Promise<Array<{ finalPlate: string; plateBbox: number[] }>> {
  const configPath = join(dir, "dashcam.json");
  await Deno.writeTextFile(configPath, JSON.stringify(config));
  const out = await runDashcam([
    "process",
    "--json",
    "--config",
    configPath,
    "--models-dir",
    TEST_MODELS,
    "--data-dir",
    join(dir, "data"),
    "--log-level",
    "warn",
    ...clips,
  ]);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.split("\n").filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l)).filter((e) => e.finalPlate !== undefined);
}

Deno.test("process --json: a plate-like label burned into a moving dashcam clip is no event", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clip = join(dir, "label.mp4");
    const font = await boldFont();
    // A white box with a UK-style registration, as some recorders burn in
    // their device name, on 5 s of a driving clip with no readable plate.
    await ffmpeg([
      "-t",
      "5",
      "-i",
      `${SHARED_MEDIA}/clips/us_dashcam_dusk_no_readable_plates.mp4`,
      "-an",
      "-vf",
      "drawbox=x=400:y=296:w=160:h=40:color=white:t=fill," +
      "drawbox=x=400:y=296:w=160:h=40:color=black:t=2," +
      `drawtext=fontfile=${font}:text='KX51 ABC':x=412:y=302:fontsize=26:fontcolor=black`,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-crf",
      "20",
      clip,
    ]);
    assert.deepEqual(await processPlates(dir, [clip]), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process --json: a camera's ignore_zones hide the plates there, another camera's are reported", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = `${SHARED_MEDIA}/clips/nl_tudelft/Video10_2.avi`;
    const clips = [];
    // Two cameras (folders), two encodes (two clip ids) of one parked car.
    for (const [camera, crf] of [["front", "20"], ["rear", "22"]]) {
      await Deno.mkdir(join(dir, camera));
      const clip = join(dir, camera, "clip.mp4");
      await ffmpeg([
        "-i",
        src,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        crf,
        clip,
      ]);
      clips.push(clip);
    }
    const events = await processPlates(dir, clips, {
      // The plate (XS-NB-23) sits at x 0.31-0.71, y 0.66-0.81.
      cameras: {
        front: {
          ignore_zones: [[[0.2, 0.55], [0.8, 0.55], [0.8, 0.95], [0.2, 0.95]]],
        },
      },
    });
    assert.deepEqual(events.map((e) => e.finalPlate), ["XSNB23"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process --json: a plate cut by the frame's left edge is not reported as a shorter plate", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // XS-NB-23 spans x 201-453 of 640: keep x >= 250, so "X" and half the
    // "S" are outside the picture.
    const clip = join(dir, "cut.mp4");
    await ffmpeg([
      "-i",
      `${SHARED_MEDIA}/clips/nl_tudelft/Video10_2.avi`,
      "-vf",
      "crop=384:480:250:0",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-crf",
      "20",
      clip,
    ]);
    const events = await processPlates(dir, [clip]);
    assert.deepEqual(
      events.filter((e) => e.finalPlate !== "XSNB23").map((e) => e.finalPlate),
      [],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
