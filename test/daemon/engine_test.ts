import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import type { TrivialOptions } from "../testdata/trivial_handlers.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";

function memorySink() {
  const events = new Map<string, FinalEvent>();
  return {
    events,
    add(e: FinalEvent) {
      if (events.has(e.eventKey)) return false;
      events.set(e.eventKey, e);
      return true;
    },
  };
}

function quietLog(lines: string[] = []) {
  return new Logger({
    level: "debug",
    sink: (l) => lines.push(l),
    journald: false,
  });
}

async function listFrames(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of Deno.readDir(join(dataDir, "frames"))) {
    out.push(d.name);
  }
  return out;
}

Deno.test("Engine processes a clip through all five stages and empties the frames folder", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "a.mp4", { durationS: 3 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true },
    workers: {
      vehicle_detect: 2,
      plate_detect: 1,
      ocr: 1,
      plate_smooth: 1,
      summary: 1,
    },
  });
  const sink = memorySink();
  const engine = await Engine.open(config, {
    log: quietLog(),
    sink,
    handlersModule: TRIVIAL_HANDLERS,
  });
  try {
    const sub = await engine.addClip(clip);
    assert.equal(sub.state, "new");
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video.status, "done");
    assert.equal(video.frames_total, 15); // 3 s at 5 fps
    const counts = engine.db.prepare(
      "SELECT category, status, COUNT(*) AS n FROM tasks GROUP BY category, status ORDER BY category",
    ).all().map((r) => `${r.category}:${r.status}:${r.n}`);
    assert.deepEqual(counts, [
      "ocr:done:15",
      "plate_detect:done:15",
      "plate_smooth:done:1",
      "summary:done:3",
      "vehicle_detect:done:15",
    ]);
    const unhandled = engine.db.prepare(
      "SELECT COUNT(*) AS n FROM results WHERE handled = 0",
    ).get() as { n: number };
    assert.equal(unhandled.n, 0);
    assert.deepEqual(
      [...sink.events.values()].map((e) => e.finalPlate).sort(),
      ["P0", "P1", "P2"],
    );
    assert.equal(engine.framesOnDisk, 0);
    assert.deepEqual(await listFrames(config.data_dir), []);
    // The same content again is not processed twice.
    const again = await engine.addClip(clip);
    assert.equal(again.state, "known");
    assert.equal(again.status, "done");
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Engine retries a task whose handler throws, then marks it failed, and the clip still finishes", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "b.mp4", { durationS: 2 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true, max_attempts: 3 },
  });
  const sink = memorySink();
  const lines: string[] = [];
  const engine = await Engine.open(config, {
    log: quietLog(lines),
    sink,
    handlersModule: TRIVIAL_HANDLERS,
    handlerOptions: { throwFrame: 2 } satisfies TrivialOptions,
  });
  try {
    const sub = await engine.addClip(clip);
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video.status, "done");
    assert.equal(video.error, "1 task(s) failed");
    const failed = engine.db.prepare(
      "SELECT frame_idx, attempts, status, last_error FROM tasks WHERE status != 'done'",
    ).all().map((r) => ({ ...r }));
    assert.deepEqual(failed, [{
      frame_idx: 2,
      attempts: 3,
      status: "failed",
      last_error: "planted failure on frame 2",
    }]);
    const done = engine.db.prepare(
      "SELECT COUNT(*) AS n FROM tasks WHERE category = 'ocr' AND status = 'done'",
    ).get() as { n: number };
    assert.equal(done.n, 9); // 10 frames, one lost
    assert.equal(sink.events.size, 2);
    assert.equal(
      lines.filter((l) => l.includes("task attempt failed")).length,
      2,
    );
    // The failed task's frame stays (the seed query says it is still needed); the rest are gone.
    const left = [];
    for await (
      const f of Deno.readDir(join(config.data_dir, "frames", sub.videoId!))
    ) left.push(f.name);
    assert.deepEqual(left, ["000002.ppm"]);
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Engine replaces a worker that dies mid-task and retries the task after its lease expires", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "c.mp4", { durationS: 1 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true, lease_s: 0.3 },
  });
  const sink = memorySink();
  const lines: string[] = [];
  const engine = await Engine.open(config, {
    log: quietLog(lines),
    sink,
    handlersModule: TRIVIAL_HANDLERS,
    handlerOptions: { crashFrame: 1 } satisfies TrivialOptions,
  });
  try {
    const sub = await engine.addClip(clip);
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video.status, "done");
    assert.equal(video.error, null);
    const row = engine.db.prepare(
      "SELECT attempts, status FROM tasks WHERE category = 'vehicle_detect' AND frame_idx = 1",
    ).get();
    assert.deepEqual({ ...row }, { attempts: 2, status: "done" });
    assert.equal(engine.pool.counters.restarts, 1);
    assert.ok(lines.some((l) => l.includes("replacing stage worker")));
    assert.equal(sink.events.size, 1);
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Engine finishes a clip whose every frame fails: frames kept for failed tasks do not block decoding", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "poison.mp4", { durationS: 3 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true, max_attempts: 1, max_frames_on_disk: 4 },
  });
  const engine = await Engine.open(config, {
    log: quietLog(),
    sink: memorySink(),
    handlersModule: TRIVIAL_HANDLERS,
    handlerOptions: { throwAll: true } satisfies TrivialOptions,
  });
  try {
    const sub = await engine.addClip(clip);
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video.status, "done");
    assert.equal(video.frames_total, 15);
    assert.equal(video.error, "15 task(s) failed");
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});
