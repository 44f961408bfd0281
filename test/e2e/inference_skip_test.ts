/**
 * Inference only where it pays (issue 14 item 2), through `process --json`
 * with the real models:
 *
 * - with `skipping.enabled` (the default) every clip of `../shared/media`
 *   and every case of `../shared/cases` gives the same plates as with
 *   skipping off, each at least once and never more often;
 * - a clip where nothing moves for its whole length (a still looped with
 *   ffmpeg) reports its parked car exactly once, and the plate detector and
 *   the OCR run on far fewer frames than were sampled;
 * - a still scene that cuts to another still scene has both plates read;
 * - `process` killed with SIGKILL while skipping decisions are taken, then
 *   run again, reports each plate once (the decisions rest on rows of
 *   `pipeline.db`, never on memory alone).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sha256File } from "../../src/shared/mod.ts";
import { dashcamCommand, runDashcam } from "../support/cli.ts";
import { SHARED_DIR, SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

const MEDIA_CLIPS = [
  "uk_dashcam_junction.mp4",
  "uk_roundabout_approach.mp4",
  "in_convoy_portrait.mp4",
  "us_dashcam_dusk_no_readable_plates.mp4",
  "nl_tudelft/Video10_2.avi",
  "nl_tudelft/Video47_2.avi",
  "nl_tudelft/Video101_2.avi",
].map((c) => join(SHARED_MEDIA, "clips", c));

const STILLS = join(SHARED_MEDIA, "stills", "ro_dashcam");

/** Every input of every case under `../shared/cases`, one group per case. */
async function caseInputs(): Promise<string[][]> {
  const groups: string[][] = [];
  const root = join(SHARED_DIR, "cases");
  for await (const entry of Deno.readDir(root)) {
    if (!entry.isDirectory) continue;
    const file = join(root, entry.name, "case.json");
    const spec = JSON.parse(await Deno.readTextFile(file)) as {
      command: string;
      inputs: string[];
    };
    if (spec.command !== "process") continue;
    groups.push(spec.inputs.map((i) => join(dirname(file), i)));
  }
  return groups;
}

/** A clip id as the engine makes it (first 16 hex digits of the sha256). */
async function clipId(path: string): Promise<string> {
  return (await sha256File(path)).slice(0, 16);
}

interface Run {
  /** Plates reported, by clip id, sorted. */
  plates: Map<string, string[]>;
  /** Tasks run per clip id and stage. */
  tasks: Map<string, Record<string, number>>;
  /** Sampled frames per clip id. */
  frames: Map<string, number>;
}

/** Writes the test's config (skipping on or off, task rows kept) into `dir`. */
async function writeConfig(
  dir: string,
  options: { skipping: boolean },
): Promise<string> {
  const config = join(dir, "dashcam.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      skipping: { enabled: options.skipping },
      graph: { keep_finished: true },
    }),
  );
  return config;
}

/** The `process --json` arguments for the clips. */
function processArgs(dir: string, config: string, clips: string[]): string[] {
  return [
    "process",
    "--json",
    "--config",
    config,
    "--models-dir",
    TEST_MODELS,
    "--data-dir",
    join(dir, "data"),
    "--log-level",
    "warn",
    ...clips,
  ];
}

/** Plates by clip from `process --json` output, task counts and frames from pipeline.db. */
function collect(dir: string, stdout: string): Run {
  const plates = new Map<string, string[]>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { videoId: string; finalPlate: string };
    plates.set(e.videoId, [...plates.get(e.videoId) ?? [], e.finalPlate]);
  }
  for (const list of plates.values()) list.sort();
  const db = new DatabaseSync(join(dir, "data", "pipeline.db"), {
    readOnly: true,
  });
  const tasks = new Map<string, Record<string, number>>();
  const frames = new Map<string, number>();
  try {
    for (
      const r of db.prepare(
        "SELECT video_id, category, COUNT(*) AS n FROM tasks GROUP BY video_id, category",
      ).all() as Array<{ video_id: string; category: string; n: number }>
    ) {
      tasks.set(r.video_id, {
        ...tasks.get(r.video_id),
        [r.category]: Number(r.n),
      });
    }
    for (
      const r of db.prepare(
        "SELECT video_id, frames_total FROM video_metadata",
      ).all() as Array<{ video_id: string; frames_total: number }>
    ) {
      frames.set(r.video_id, Number(r.frames_total));
    }
  } finally {
    db.close();
  }
  return { plates, tasks, frames };
}

/** `process --json` on the clips in a fresh data dir, keeping the task rows. */
async function processClips(
  clips: string[],
  options: { skipping: boolean },
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "inference_skip_test_" });
  try {
    const config = await writeConfig(dir, options);
    const out = await runDashcam(processArgs(dir, config, clips));
    assert.equal(out.code, 0, out.stderr);
    return collect(dir, out.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Done OCR tasks in the data dir's pipeline.db (0 before it exists). */
function doneOcr(dir: string): number {
  try {
    const db = new DatabaseSync(join(dir, "data", "pipeline.db"), {
      readOnly: true,
    });
    try {
      return Number(
        (db.prepare(
          "SELECT COUNT(*) AS n FROM tasks WHERE category = 'ocr' AND status = 'done'",
        ).get() as { n: number }).n,
      );
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet, or mid-migration
  }
}

/** Builds a clip of one still looped for `seconds` (H.264, as a camera writes it). */
async function stillClip(
  out: string,
  still: string,
  seconds: number,
): Promise<string> {
  await ffmpeg([
    "-loop",
    "1",
    "-framerate",
    "30",
    "-t",
    String(seconds),
    "-i",
    join(STILLS, still),
    "-vf",
    "format=yuv420p",
    "-c:v",
    "libx264",
    "-crf",
    "23",
    "-preset",
    "fast",
    out,
  ]);
  return out;
}

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-loglevel", "error", "-y", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test("process with skipping reads every plate it reads without, never more often, on the media clips and the cases", async () => {
  const groups = [...MEDIA_CLIPS.map((c) => [c]), ...await caseInputs()];
  const clips = groups.flat();
  const off = await processClips(clips, { skipping: false });
  const on = await processClips(clips, { skipping: true });
  // Segments of one drive may hand a track to each other, so a case's
  // plates are compared over its inputs together.
  const byGroup = async (run: Run) => {
    const out: Record<string, string[]> = {};
    for (const group of groups) {
      const plates: string[] = [];
      for (const clip of group) {
        plates.push(...run.plates.get(await clipId(clip)) ?? []);
      }
      out[group.map((c) => c.slice(SHARED_DIR.length)).join(" + ")] = plates
        .sort();
    }
    return out;
  };
  const want = await byGroup(off);
  const got = await byGroup(on);
  assert.ok(
    Object.values(want).flat().length >= 8,
    `the media clips alone give 8 plates: ${JSON.stringify(want)}`,
  );
  // The same plates; each reported at least once and never more often than
  // without skipping (skipping reads fewer frames, so a duplicate event that
  // a parallel track makes may go, but never a vehicle).
  for (const [group, plates] of Object.entries(want)) {
    const distinct = (list: string[]) => [...new Set(list)].sort();
    assert.deepEqual(distinct(got[group]), distinct(plates), group);
    for (const plate of distinct(plates)) {
      const n = got[group].filter((p) => p === plate).length;
      const max = plates.filter((p) => p === plate).length;
      assert.ok(
        1 <= n && n <= max,
        `${group}: ${plate} x${n}, without skipping x${max}`,
      );
    }
  }
  // Skipping never adds work, and settled plates are really left unread (the
  // media clips follow cars for seconds: 172 OCR runs without skipping, 78
  // with, when measured).
  const sum = (run: Run, category: string) =>
    [...run.tasks.values()].reduce((n, t) => n + (t[category] ?? 0), 0);
  assert.ok(sum(on, "plate_detect") <= sum(off, "plate_detect"));
  assert.ok(
    sum(on, "ocr") <= 0.75 * sum(off, "ocr"),
    `ocr ran ${sum(on, "ocr")} times with skipping, ${sum(off, "ocr")} without`,
  );
});

Deno.test("process with skipping reports a parked car in a clip where nothing moves once, running the plate detector and OCR on few of its frames", async () => {
  const dir = await Deno.makeTempDir({ prefix: "inference_skip_clips_" });
  try {
    // 8 s of one still: 40 sampled frames at 5 fps.
    const parked = await stillClip(
      join(dir, "parked_8s.mp4"),
      "dayride_type1_001_t0607.jpg",
      8,
    );
    // 4 s of one still scene, then a cut to another for 4 s.
    const cut = join(dir, "still_cut_still.mp4");
    await ffmpeg([
      "-loop",
      "1",
      "-framerate",
      "30",
      "-t",
      "4",
      "-i",
      join(STILLS, "dayride_type1_001_t0755.jpg"),
      "-loop",
      "1",
      "-framerate",
      "30",
      "-t",
      "4",
      "-i",
      join(STILLS, "dayride_type1_002_t0817.jpg"),
      "-filter_complex",
      "[0:v][1:v]concat=n=2:v=1,format=yuv420p",
      "-c:v",
      "libx264",
      "-crf",
      "23",
      "-preset",
      "fast",
      cut,
    ]);
    const run = await processClips([parked, cut], { skipping: true });
    const parkedId = await clipId(parked);
    assert.deepEqual(run.plates.get(parkedId), ["B310VLV"]);
    assert.deepEqual(run.plates.get(await clipId(cut)), [
      "B839HAR",
      "BR07AAC",
    ]);
    const frames = run.frames.get(parkedId) ?? 0;
    const tasks = run.tasks.get(parkedId) ?? {};
    assert.equal(frames, 40);
    // Read twice, then at least every 11th frame: 5 of 40. A quarter is the
    // bound; without skipping every one of the 40 frames is run.
    for (const category of ["vehicle_detect", "plate_detect", "ocr"]) {
      const n = tasks[category] ?? 0;
      assert.ok(
        n >= 2 && n <= frames / 4,
        `${category} ran on ${n} of ${frames} frames`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process with skipping killed with SIGKILL once plates are being read, then run again, loses no plate and doubles none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "inference_skip_kill_" });
  try {
    // A followed car (its plate settles, so OCR is skipped) and a parked one.
    const clips = [
      join(SHARED_MEDIA, "clips", "in_convoy_portrait.mp4"),
      await stillClip(
        join(dir, "parked_6s.mp4"),
        "dayride_type1_001_t0607.jpg",
        6,
      ),
    ];
    const config = await writeConfig(dir, { skipping: true });
    const child = dashcamCommand(processArgs(dir, config, clips)).spawn();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    // Killed as soon as 4 frames were read: a track can have settled and
    // skipping decisions are being taken (polled, bounded: the machine may be busy).
    const deadline = Date.now() + 300_000;
    while (!exited && doneOcr(dir) < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!exited, "process ended before it could be killed");
    child.kill("SIGKILL");
    await status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    const out = await runDashcam(processArgs(dir, config, clips));
    assert.equal(out.code, 0, out.stderr);
    const run = collect(dir, out.stdout);
    assert.deepEqual(run.plates.get(await clipId(clips[0])), ["UP16CU0006"]);
    assert.deepEqual(run.plates.get(await clipId(clips[1])), ["B310VLV"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
