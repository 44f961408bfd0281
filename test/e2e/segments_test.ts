/**
 * One event per vehicle per drive (issue 11 kind 3), the camera's clock
 * (kind 4) and output people can use, with the real models on a drive built
 * here from ../shared/media (not the split_segments case): the roundabout
 * clip cut into two front segments named by their local start time, the
 * second also as a rear-channel clip, and a plate-less clip of another
 * camera.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { dashcamCommand, runDashcam } from "../support/cli.ts";
import { ManualClock } from "../support/clock.ts";
import { testConfig } from "../support/config.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";
import { ffmpeg } from "../support/clips.ts";

const ROUNDABOUT = `${SHARED_MEDIA}/clips/uk_roundabout_approach.mp4`;
const DUSK = `${SHARED_MEDIA}/clips/us_dashcam_dusk_no_readable_plates.mp4`;
const PLATE = "LS15EBC";

/** The drive's clips, built once for the file. */
interface Drive {
  root: string;
  /** van7/2026_0601_120000_F.MP4 (0-2.57 s) and van7/2026_0601_120002_F.MP4 (2.57-4.67 s). */
  front: [string, string];
  /** van7/2026_0601_120002_R.MP4: the second segment as the rear channel. */
  rear: string;
  /** other/2026_0601_130000_F.MP4: 1 s with no readable plate. */
  empty: string;
}

let built: Promise<Drive> | null = null;

function drive(): Promise<Drive> {
  built ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "segments_test_" });
    await Deno.mkdir(join(root, "van7"));
    await Deno.mkdir(join(root, "other"));
    const j = join(root, "j.mp4");
    // Keyframes every 0.5 s, cut into 2.5 s segments as a dashcam does.
    await ffmpeg([
      "-i",
      ROUNDABOUT,
      "-c:v",
      "libx264",
      "-crf",
      "20",
      "-preset",
      "fast",
      "-g",
      "15",
      "-keyint_min",
      "15",
      "-sc_threshold",
      "0",
      "-an",
      "-map_metadata",
      "-1",
      j,
    ]);
    await ffmpeg([
      "-i",
      j,
      "-c",
      "copy",
      "-f",
      "segment",
      "-segment_time",
      "2.5",
      "-reset_timestamps",
      "1",
      "-segment_format",
      "mp4",
      join(root, "seg%d.mp4"),
    ]);
    const front: [string, string] = [
      join(root, "van7", "2026_0601_120000_F.MP4"),
      join(root, "van7", "2026_0601_120002_F.MP4"),
    ];
    await Deno.rename(join(root, "seg0.mp4"), front[0]);
    await Deno.copyFile(join(root, "seg1.mp4"), front[1]);
    const rear = join(root, "van7", "2026_0601_120002_R.MP4");
    // Other bytes (another camera's file), the same picture.
    await ffmpeg([
      "-i",
      join(root, "seg1.mp4"),
      "-c",
      "copy",
      "-metadata",
      "comment=rear",
      rear,
    ]);
    const empty = join(root, "other", "2026_0601_130000_F.MP4");
    await ffmpeg(["-i", DUSK, "-t", "1", "-c", "copy", "-an", empty]);
    return { root, front, rear, empty };
  })();
  return built;
}

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split("\n").filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

function outboxEvents(dataDir: string): Array<{ key: string; plate: string }> {
  const db = new DatabaseSync(join(dataDir, "outbox.db"), { readOnly: true });
  try {
    return db.prepare("SELECT event_key, final_plate FROM events ORDER BY id")
      .all().map((r) => ({
        key: String(r.event_key),
        plate: String(r.final_plate),
      }));
  } finally {
    db.close();
  }
}

Deno.test("process: a car in view across two segments is one event, the rear channel its own, and a clip without plates says so", async () => {
  const d = await drive();
  const dir = await Deno.makeTempDir({ prefix: "segments_process_" });
  try {
    const config = join(dir, "dashcam.json");
    // The van's clock is London time (BST in June); searches are whole days
    // in Auckland (UTC+12), the fleet office's zone.
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        log_level: "warn",
        models_dir: TEST_MODELS,
        data_dir: join(dir, "data"),
        cameras: {
          default: { time_zone: "Pacific/Auckland" },
          van7: { time_zone: "Europe/London" },
        },
      }),
    );
    const out = await runDashcam([
      "process",
      "--json",
      "--config",
      config,
      ...d.front,
      d.rear,
      d.empty,
    ]);
    assert.equal(out.code, 0, out.stderr);
    const lines = jsonLines(out.stdout);
    const events = lines.filter((l) => "finalPlate" in l);
    const plates = events.map((e) => e.finalPlate);
    // Without segment chaining: three (two front segments + rear).
    assert.deepEqual(plates, [PLATE, PLATE], out.stdout);
    const byClip = new Map(events.map((e) => [String(e.clip), e]));
    const rear = byClip.get("2026_0601_120002_R.MP4");
    assert.ok(rear, `no rear event: ${out.stdout}`);
    const front = events.find((e) => e !== rear)!;
    assert.match(String(front.clip), /^2026_0601_12000[02]_F\.MP4$/);
    for (const e of events) {
      assert.equal(typeof e.clipTimeS, "number");
      assert.ok((e.clipTimeS as number) >= 0 && (e.clipTimeS as number) < 2.7);
      assert.equal((e.carBbox as number[]).length, 4);
      assert.equal(e.camera, "van7");
      // 12:00:02 London (BST) is 11:00:02Z.
      assert.match(String(e.ts), /^2026-06-01T11:00:0\d/);
      assert.match(
        String(e.localTime),
        /^2026-06-01T12:00:0\d(\.\d+)?\+01:00$/,
      );
    }
    assert.deepEqual(
      lines.filter((l) => l.events === 0).map((l) => l.clip),
      ["2026_0601_130000_F.MP4"],
    );

    // The terminal: local time with offset, file name, time in clip, car box.
    const text = await runDashcam(["vehicles", "--config", config]);
    assert.equal(text.code, 0, text.stderr);
    const rows = text.stdout.trim().split("\n");
    assert.equal(rows.length, 2, text.stdout);
    for (const row of rows) {
      assert.match(
        row,
        /^2026-06-01T12:00:0\d(\.\d+)?\+01:00 {2}LS15EBC .* 2026_0601_12000[02]_[FR]\.MP4 at \d\.\d s {2}car=\[\d+,\d+,\d+,\d+\] /,
      );
    }
    // Dates are whole days in the default zone (Auckland): 11:00Z on 1 June
    // is 23:00 on 1 June there.
    const day = await runDashcam([
      "vehicles",
      "--json",
      "--config",
      config,
      "--since",
      "2026-06-01",
      "--until",
      "2026-06-01",
    ]);
    assert.equal(
      jsonLines(day.stdout).filter((l) => "finalPlate" in l).length,
      2,
    );
    const next = await runDashcam([
      "vehicles",
      "--json",
      "--config",
      config,
      "--since",
      "2026-06-02",
    ]);
    assert.deepEqual(jsonLines(next.stdout), [{ events: 0 }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process killed (power cut) between two segments of a drive, then run again: the car is still one event", async () => {
  const d = await drive();
  const dir = await Deno.makeTempDir({ prefix: "segments_cut_" });
  try {
    const dataDir = join(dir, "data");
    const args = [
      "process",
      "--json",
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      ...d.front,
    ];
    const child = dashcamCommand(args).spawn();
    const held = () => {
      try {
        const db = new DatabaseSync(join(dataDir, "pipeline.db"), {
          readOnly: true,
        });
        try {
          return Number(
            (db.prepare("SELECT COUNT(*) AS n FROM held_tracks").get() as {
              n: number;
            }).n,
          ) > 0;
        } finally {
          db.close();
        }
      } catch {
        return false; // not created or migrated yet
      }
    };
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = Date.now() + 120_000;
    while (!exited && !held() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(
      !exited,
      "process ended before the first segment's track was held",
    );
    assert.ok(held(), "no track held at the first segment's end");
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    // Nothing of the held track is in the outbox yet.
    const before = outboxEvents(dataDir).filter((e) => e.plate === PLATE);
    assert.ok(before.length <= 1);

    const again = await runDashcam(args);
    assert.equal(again.code, 0, again.stderr);
    const after = outboxEvents(dataDir).filter((e) => e.plate === PLATE);
    assert.equal(after.length, 1, JSON.stringify(after));
    // Its key is the first segment's track: what may already be synced.
    const db = new DatabaseSync(join(dataDir, "pipeline.db"), {
      readOnly: true,
    });
    const first = db.prepare(
      "SELECT video_id FROM video_metadata WHERE source_name = ?",
    ).get("2026_0601_120000_F.MP4") as { video_id: string };
    db.close();
    assert.ok(after[0].key.startsWith(`${first.video_id}:`), after[0].key);
    if (before.length === 1) assert.equal(before[0].key, after[0].key);
    // And a third run adds nothing.
    await runDashcam(args);
    assert.equal(
      outboxEvents(dataDir).filter((e) => e.plate === PLATE).length,
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("daemon engine: segments arriving over time continue one track; the hold ends by the injected clock", async () => {
  const d = await drive();
  const dir = await Deno.makeTempDir({ prefix: "segments_engine_" });
  const clock = new ManualClock(Date.parse("2026-06-01T12:00:00Z"));
  const events = new Map<string, FinalEvent>();
  const sink = {
    add(e: FinalEvent) {
      if (events.has(e.eventKey)) return false;
      events.set(e.eventKey, e);
      return true;
    },
  };
  const config = testConfig(join(dir, "data"), {
    models_dir: TEST_MODELS,
    segments: { hold_s: 600 },
  });
  const engine = await Engine.open(config, {
    log: new Logger({ level: "error", sink: () => {}, journald: false }),
    sink,
    clock,
  });
  /** Waits for `n` more dispatcher rounds (each checks the held tracks). */
  const rounds = async (n: number) => {
    const target = engine.stats.ticks + n;
    const deadline = Date.now() + 30_000;
    while (engine.stats.ticks < target && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(engine.stats.ticks >= target, "dispatcher stalled");
  };
  const plates = () =>
    [...events.values()].filter((e) => e.finalPlate === PLATE);
  try {
    const a = await engine.addClip(d.front[0]);
    await engine.waitFor([a.videoId!]);
    assert.equal(plates().length, 0, "the track at the segment's end is held");
    clock.advance(300_000); // the next segment comes 5 minutes later
    await rounds(3);
    assert.equal(plates().length, 0);
    const b = await engine.addClip(d.front[1]);
    await engine.waitFor([b.videoId!]);
    await rounds(3);
    assert.equal(plates().length, 0, "continued, and held at the new end");
    clock.advance(599_000);
    await rounds(3);
    assert.equal(plates().length, 0);
    clock.advance(2_000);
    const deadline = Date.now() + 30_000;
    while (plates().length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(plates().length, 1);
    assert.ok(plates()[0].eventKey.startsWith(`${a.videoId}:`));
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "segments test clips are removed",
  fn: async () => {
    if (built) await Deno.remove((await built).root, { recursive: true });
  },
});
