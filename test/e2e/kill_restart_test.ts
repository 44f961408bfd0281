/**
 * Fan-out is exactly once: `process` is killed with SIGKILL at random points
 * of a real clip and restarted until it finishes; the final tasks, results
 * and events equal an uninterrupted run's.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { makeTestClip } from "../support/clips.ts";
import { dashcamCommand, runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import { seeded, withSeedNote } from "../support/random.ts";

function writeConfig(dir: string, keepFinished: boolean): Promise<string> {
  return writeTrivialConfig(dir, {
    log_level: "warn",
    workers: {
      vehicle_detect: 2,
      plate_detect: 1,
      ocr: 1,
      plate_smooth: 1,
      summary: 1,
    },
    graph: {
      keep_finished: keepFinished,
      poll_ms: 10,
      retry_backoff_ms: 10,
      max_frames_on_disk: 8,
    },
  });
}

interface Snapshot {
  tasks: string[];
  results: string[];
  events: string[];
}

function snapshot(dataDir: string): Snapshot {
  const db = new DatabaseSync(join(dataDir, "pipeline.db"), { readOnly: true });
  const tasks = db.prepare(
    `SELECT category, video_id, frame_idx, track_id, status, meta, dependencies, payload
       FROM tasks`,
  ).all().map((r) => JSON.stringify(Object.values(r))).sort();
  const results = db.prepare(
    `SELECT t.category, t.frame_idx, t.track_id, r.result, r.handled
       FROM results r JOIN tasks t ON t.id = r.task_id`,
  ).all().map((r) => JSON.stringify(Object.values(r))).sort();
  const dupTasks = db.prepare(
    `SELECT COUNT(*) AS n FROM (SELECT 1 FROM tasks
       GROUP BY category, video_id, frame_idx, track_id HAVING COUNT(*) > 1)`,
  ).get() as { n: number };
  const dupResults = db.prepare(
    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM results GROUP BY task_id HAVING COUNT(*) > 1)",
  ).get() as { n: number };
  db.close();
  assert.equal(
    dupTasks.n,
    0,
    "duplicate task per (category, video_id, frame_idx, track_id)",
  );
  assert.equal(dupResults.n, 0, "duplicate result per task");
  const outbox = new DatabaseSync(join(dataDir, "outbox.db"), {
    readOnly: true,
  });
  const events = outbox.prepare(
    `SELECT event_key, video_id, track_id, frame_idx, ts, final_plate, plate_confidence,
            car_bbox, plate_bbox FROM events`,
  ).all().map((r) => JSON.stringify(Object.values(r))).sort();
  outbox.close();
  return { tasks, results, events };
}

function countResults(dataDir: string): number {
  try {
    const db = new DatabaseSync(join(dataDir, "pipeline.db"), {
      readOnly: true,
    });
    try {
      return Number(
        (db.prepare("SELECT COUNT(*) AS n FROM results").get() as { n: number })
          .n,
      );
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet, or mid-migration
  }
}

/** Waits until `cond()` holds or the child exits; true when the condition held. */
async function waitFor(
  cond: () => boolean,
  child: Deno.ChildProcess,
): Promise<boolean> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 300_000; // generous: the machine may be busy
  while (!exited && Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/** Results of the clip: 20 frames x 3 frame stages, smooth, 4 summaries. */
const TOTAL_RESULTS = 20 * 3 + 1 + 4;

Deno.test("process killed with SIGKILL at random points ends with the same tasks, results and events as an uninterrupted run", async () => {
  await killAndRestart({ keepFinished: true, rounds: 12, minKills: 3 });
});

Deno.test("process killed with SIGKILL with the default configuration (finished clips pruned) ends with the same events and no row left", async () => {
  await killAndRestart({ keepFinished: false, rounds: 5, minKills: 2 });
});

/**
 * Kills `process` up to `rounds` times at random points, finishes the run,
 * and compares it with an uninterrupted one (with pruning, both keep no
 * task or result: the comparison then says that none was left behind).
 */
async function killAndRestart(
  options: { keepFinished: boolean; rounds: number; minKills: number },
): Promise<void> {
  const { keepFinished, rounds, minKills } = options;
  const s = seeded("KILL_TEST_SEED");
  const { seed, random } = s;
  const root = await Deno.makeTempDir();
  try {
    const clip = await makeTestClip(root, "clip.mp4", {
      durationS: 4,
      size: "320x240",
    });

    const refDir = join(root, "ref");
    await Deno.mkdir(refDir);
    const ref = await runDashcam([
      "process",
      "--json",
      "--config",
      await writeConfig(refDir, keepFinished),
      clip,
    ]);
    assert.equal(ref.code, 0, ref.stderr);
    const expected = snapshot(join(refDir, "data"));
    const totalResults = TOTAL_RESULTS;
    assert.equal(expected.results.length, keepFinished ? TOTAL_RESULTS : 0);
    assert.equal(expected.tasks.length, expected.results.length); // one result a task
    assert.equal(expected.events.length, 4);

    const dir = join(root, "killed");
    await Deno.mkdir(dir);
    const config = await writeConfig(dir, keepFinished);
    const dataDir = join(dir, "data");
    let kills = 0;
    let last = "";
    for (let round = 0; round < rounds; round++) {
      const target = Math.floor(random() * (totalResults + 1));
      const child = dashcamCommand([
        "process",
        "--json",
        "--config",
        config,
        clip,
      ]).spawn();
      const stderr = new Response(child.stderr).text();
      const stdout = new Response(child.stdout).text();
      const reached = await waitFor(
        () => countResults(dataDir) >= target,
        child,
      );
      if (reached) {
        try {
          child.kill("SIGKILL");
          kills++;
        } catch { /* exited already */ }
      }
      const status = await child.status;
      last = await stdout;
      await stderr;
      if (status.success) break;
      assert.equal(
        status.signal,
        "SIGKILL",
        `exit ${status.code}: ${await stderr}`,
      );
    }
    // Finish the run if the rounds ran out.
    const final = await runDashcam([
      "process",
      "--json",
      "--config",
      config,
      clip,
    ]);
    assert.equal(final.code, 0, final.stderr);
    last = final.stdout;
    assert.ok(
      kills >= minKills,
      `only ${kills} kills happened (seed ${seed})`,
    );
    console.log(`seed ${seed}: ${kills} kills`);

    const got = snapshot(dataDir);
    assert.deepEqual(got.tasks, expected.tasks, `tasks differ (seed ${seed})`);
    assert.deepEqual(
      got.results,
      expected.results,
      `results differ (seed ${seed})`,
    );
    assert.deepEqual(
      got.events,
      expected.events,
      `events differ (seed ${seed})`,
    );
    const printed = last.trim().split("\n").map((l) => JSON.parse(l).finalPlate)
      .sort();
    assert.deepEqual(printed, ["P0", "P1", "P2", "P3"]);
    // Every frame was cleaned up.
    const left = [...Deno.readDirSync(join(dataDir, "frames"))].map((e) =>
      e.name
    );
    assert.deepEqual(left, [], `frames left (seed ${seed})`);
  } catch (err) {
    throw withSeedNote(err, s);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
