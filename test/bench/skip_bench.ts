/**
 * Inference only where it pays, measured: runs `process --json` on the 7
 * media clips as a user starts it (a fresh data dir, the default
 * configuration) with `skipping.enabled` false and true, and prints for
 * each the whole-process wall time, CPU seconds (user + system, ffmpeg
 * included) and peak RSS (GNU `/usr/bin/time`), the sampled frames, the
 * `vehicle_detect`, `plate_detect` and `ocr` tasks run, the plate
 * detector's runs (its tasks less those it left out for settled tracks,
 * `plate_detect_settled`), the plates read by OCR, and the plates reported. `SKIP_BENCH_ROUNDS=n` repeats the pair.
 *
 * `deno run -A test/bench/skip_bench.ts [SHARED_DIR]`
 *
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const root = join(import.meta.dirname!, "../..");
const shared = Deno.args[0] ?? join(root, "../shared");
const clips = [
  "uk_dashcam_junction.mp4",
  "uk_roundabout_approach.mp4",
  "in_convoy_portrait.mp4",
  "us_dashcam_dusk_no_readable_plates.mp4",
  "nl_tudelft/Video10_2.avi",
  "nl_tudelft/Video47_2.avi",
  "nl_tudelft/Video101_2.avi",
].map((c) => join(shared, "media/clips", c));

async function runOnce(enabled: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "skip_bench_" });
  const config = join(dir, "dashcam.json");
  // keep_finished only keeps the task rows for counting; it adds no work.
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      skipping: { enabled },
      graph: { keep_finished: true },
    }),
  );
  const t0 = performance.now();
  // GNU time gives the CPU seconds of the process and the children it waited
  // for (ffmpeg): on a shared machine they vary far less than wall time.
  const timeFile = join(dir, "time.txt");
  const out = await new Deno.Command("/usr/bin/time", {
    args: [
      "-o",
      timeFile,
      "-f",
      "%U %S %M",
      Deno.execPath(),
      "run",
      "--no-prompt",
      "-A",
      join(root, "main.ts"),
      "process",
      "--json",
      "--config",
      config,
      "--data-dir",
      join(dir, "data"),
      "--models-dir",
      Deno.env.get("DASHCAM_MODELS_DIR") ?? join(root, "models"),
      ...clips,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallS = (performance.now() - t0) / 1000;
  if (!out.success) {
    throw new Error(new TextDecoder().decode(out.stderr).slice(-2000));
  }
  const [user, sys, maxRssKb] = (await Deno.readTextFile(timeFile)).trim()
    .split("\n").at(-1)!.split(" ").map(Number);
  const plates = new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .map((e) => e.plate ?? e.final_plate ?? e.finalPlate)
    .filter((p) => p)
    .sort();
  const db = new DatabaseSync(join(dir, "data/pipeline.db"), {
    readOnly: true,
  });
  const tasks = Object.fromEntries(
    (db.prepare(
      "SELECT category, COUNT(*) AS n FROM tasks GROUP BY category",
    ).all() as Array<{ category: string; n: number }>).map((
      r,
    ) => [r.category, r.n]),
  );
  const platesRead = (db.prepare(
    `SELECT COALESCE(SUM(json_array_length(r.result, '$.reads')), 0) AS n
       FROM tasks t JOIN results r ON r.task_id = t.id WHERE t.category = 'ocr'`,
  ).get() as { n: number }).n;
  const plateDetectSettled = (db.prepare(
    `SELECT COUNT(*) AS n FROM tasks t JOIN results r ON r.task_id = t.id
      WHERE t.category = 'plate_detect' AND json_extract(r.result, '$.settled') = 1`,
  ).get() as { n: number }).n;
  const frames = (db.prepare(
    "SELECT SUM(frames_total) AS n FROM video_metadata",
  ).get() as { n: number }).n;
  db.close();
  await Deno.remove(dir, { recursive: true });
  return {
    skipping: enabled,
    wall_s: Math.round(wallS * 100) / 100,
    cpu_s: Math.round((user + sys) * 100) / 100,
    peak_rss_mib: Math.round(maxRssKb / 1024),
    frames,
    vehicle_detect: tasks.vehicle_detect ?? 0,
    plate_detect: tasks.plate_detect ?? 0,
    plate_detect_settled: plateDetectSettled,
    ocr: tasks.ocr ?? 0,
    plates_read: platesRead,
    plates,
  };
}

const rounds = Number(Deno.env.get("SKIP_BENCH_ROUNDS") ?? 1);
for (let i = 0; i < rounds; i++) {
  for (const enabled of [false, true]) {
    console.log(JSON.stringify(await runOnce(enabled)));
  }
}
