import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { ManualClock } from "../support/clock.ts";
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

function recordingLog(lines: string[]) {
  return new Logger({
    level: "debug",
    sink: (l) => lines.push(l),
    journald: false,
  });
}

/** Polls `cond` every 20 ms, failing after `limitMs` (a bound, not a timing). */
async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 60_000,
): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function run(cmd: string, ...args: string[]): boolean {
  return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
    .outputSync().success;
}

/** Whether this machine lets us bind-mount a folder read-only (root, no sandbox). */
function canRemountReadOnly(): boolean {
  const dir = Deno.makeTempDirSync();
  try {
    if (!run("mount", "--bind", dir, dir)) return false;
    const ok = run("mount", "-o", "remount,ro,bind", dir);
    run("umount", dir);
    return ok;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const FAST_RETRY = { firstMs: 50, maxMs: 200 };

Deno.test({
  name:
    "Engine pauses a clip while the frames folder is read-only and finishes it once it is writable again",
  ignore: !canRemountReadOnly(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const clip = await makeTestClip(dir, "ro.mp4", { durationS: 2 });
    const config = testConfig(join(dir, "data"), {
      graph: { keep_finished: true },
    });
    const lines: string[] = [];
    const sink = memorySink();
    // The pauses (1 s doubling to 60 s) run on a manual clock: the test
    // moves time on instead of waiting.
    const clock = new ManualClock();
    const engine = await Engine.open(config, {
      log: recordingLog(lines),
      sink,
      handlersModule: TRIVIAL_HANDLERS,
      clock,
    });
    const frames = join(config.data_dir, "frames");
    let mounted = false;
    try {
      assert.ok(run("mount", "--bind", frames, frames));
      mounted = true;
      assert.ok(run("mount", "-o", "remount,ro,bind", frames));
      const sub = await engine.addClip(clip);
      assert.equal(sub.state, "new");
      await until(
        () => lines.some((l) => l.includes("decoding paused")),
        "the pause warning",
      );
      // Retried each time the pause ends, the pause doubling, yet one
      // warning and the clip is not failed.
      const retries = () =>
        lines.filter((l) => l.includes("data dir still failing"));
      let pause = 1000;
      for (let k = 1; k <= 3; k++) {
        clock.advance(pause);
        await until(() => retries().length >= k, `retry ${k}`);
        pause *= 2;
        assert.match(retries()[k - 1], new RegExp(`retry_ms\\W+${pause}\\b`));
      }
      assert.equal(
        lines.filter((l) => l.includes("decoding paused")).length,
        1,
      );
      assert.match(
        lines.find((l) => l.includes("decoding paused"))!,
        new RegExp(frames.replaceAll("/", "\\/")),
      );
      assert.notEqual(engine.videoRow(sub.videoId!)?.status, "failed");
      assert.ok(run("umount", frames));
      mounted = false;
      clock.advance(pause);
      const [video] = await engine.waitFor([sub.videoId!]);
      assert.equal(video.status, "done");
      assert.equal(video.error, null);
      assert.equal(video.frames_total, 10);
      assert.equal(sink.events.size, 2);
      assert.ok(lines.some((l) => l.includes("decoding resumed")));
    } finally {
      if (mounted) run("umount", frames);
      await engine.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("Engine recreates the frames folder removed mid-clip and finishes the clip", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "gone.mp4", { durationS: 3 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true, max_frames_on_disk: 2 },
  });
  const lines: string[] = [];
  const sink = memorySink();
  const engine = await Engine.open(config, {
    log: recordingLog(lines),
    sink,
    handlersModule: TRIVIAL_HANDLERS,
    handlerOptions: { delayMs: 100 } satisfies TrivialOptions,
    fsRetry: FAST_RETRY,
  });
  try {
    const sub = await engine.addClip(clip);
    const id = sub.videoId!;
    const doneFrames = () =>
      (engine.db.prepare(
        "SELECT COUNT(*) AS n FROM tasks WHERE video_id = ? AND category = 'vehicle_detect' AND status = 'done'",
      ).get(id) as { n: number }).n;
    await until(() => doneFrames() >= 2, "two frames processed");
    assert.equal(engine.videoRow(id)?.status, "decoding");
    await Deno.remove(join(config.data_dir, "frames"), { recursive: true });
    const [video] = await engine.waitFor([id]);
    assert.equal(video.status, "done", video.error ?? "");
    assert.equal(video.frames_total, 15);
    // Frames lost with the folder are written again; their tasks wait for
    // them instead of failing.
    assert.equal(video.error, null);
    assert.equal(sink.events.size, 3);
    assert.ok(
      lines.some((l) =>
        l.includes("decoding paused") &&
        l.includes(join(config.data_dir, "frames"))
      ),
      lines.join("\n"),
    );
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Engine takes up again on start the clips an older version failed for a passing fault, not those failed by their own file", async () => {
  const dir = await Deno.makeTempDir();
  const good = await makeTestClip(dir, "good.mp4", { durationS: 1 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true },
  });
  const open = () =>
    Engine.open(config, {
      log: recordingLog([]),
      sink,
      handlersModule: TRIVIAL_HANDLERS,
      fsRetry: FAST_RETRY,
    });
  const sink = memorySink();
  let engine = await open();
  let id: string;
  try {
    const sub = await engine.addClip(good);
    id = sub.videoId!;
    await engine.waitFor([id]);
    // As an older version left them: failed with the error only (no kind).
    engine.db.prepare(
      `UPDATE video_metadata SET status = 'failed', error = ? WHERE video_id = ?`,
    ).run(
      `Read-only file system (os error 30): mkdir '${config.data_dir}/frames/${id}'`,
      id,
    );
    engine.db.prepare("DELETE FROM tasks").run();
    engine.db.prepare("DELETE FROM results").run();
    engine.db.prepare(
      `INSERT INTO video_metadata (video_id, path, sha256, status, error, created_at)
       VALUES ('bad1', '/in/bad.mp4', 'ab', 'failed', 'Cannot use clip "/in/bad.mp4": moov atom not found', 1)`,
    ).run();
    sink.events.clear();
  } finally {
    await engine.close();
  }
  engine = await open();
  try {
    const [video] = await engine.waitFor([id]);
    assert.equal(video.status, "done");
    assert.equal(video.error, null);
    assert.equal(sink.events.size, 1);
    assert.equal(engine.videoRow("bad1")?.status, "failed");
    assert.equal(engine.failedForGood("bad1"), true);
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Engine finishes a clip whose source was deleted while it was down with the frames already decoded, and says so", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "vanish.mp4", { durationS: 3 });
  const config = testConfig(join(dir, "data"), {
    graph: { keep_finished: true, max_frames_on_disk: 2 },
  });
  const sink = memorySink();
  const lines: string[] = [];
  const open = (handlerOptions: TrivialOptions = {}) =>
    Engine.open(config, {
      log: recordingLog(lines),
      sink,
      handlersModule: TRIVIAL_HANDLERS,
      handlerOptions: { ...handlerOptions },
    });
  let engine = await open({ delayMs: 100 });
  let id: string;
  try {
    id = (await engine.addClip(clip)).videoId!;
    await until(
      () =>
        (engine.db.prepare(
          "SELECT COUNT(*) AS n FROM tasks WHERE video_id = ? AND category = 'vehicle_detect' AND status = 'done'",
        ).get(id) as { n: number }).n >= 6,
      "six frames processed",
    );
  } finally {
    await engine.close({ deadlineMs: 2000 });
  }
  assert.equal(
    (await (async () => {
      const e = await open();
      const s = e.videoRow(id)!.status;
      await e.close();
      return s;
    })()) === "done",
    false,
    "the clip must still be unfinished after the stop",
  );
  await Deno.remove(clip);
  engine = await open();
  try {
    const [video] = await engine.waitFor([id]);
    assert.equal(video.status, "done", video.error ?? "");
    assert.match(
      video.error ?? "",
      /^source missing, \d+ of 15 frames processed$/,
    );
    const n = Number(/(\d+) of/.exec(video.error!)![1]);
    assert.ok(n >= 6 && n < 15, video.error!);
    assert.equal(video.frames_total, n);
    // Frames 0-4 read plate P0, 5-9 P1: their events are kept.
    assert.ok(
      [...sink.events.values()].some((e) => e.finalPlate === "P0"),
      JSON.stringify([...sink.events.values()]),
    );
    assert.ok(lines.some((l) => l.includes("source file is gone")));
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "Engine keeps the attempts of tasks that cannot write to a read-only data dir and finishes them once it is writable",
  ignore: !canRemountReadOnly(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const clip = await makeTestClip(dir, "crops.mp4", { durationS: 2 });
    const config = testConfig(join(dir, "data"), {
      graph: { keep_finished: true, max_attempts: 3 },
    });
    const crops = join(config.data_dir, "crops");
    await Deno.mkdir(crops, { recursive: true });
    const lines: string[] = [];
    const sink = memorySink();
    const engine = await Engine.open(config, {
      log: recordingLog(lines),
      sink,
      handlersModule: TRIVIAL_HANDLERS,
      handlerOptions: { writeCrop: true } satisfies TrivialOptions,
    });
    let mounted = false;
    try {
      assert.ok(run("mount", "--bind", crops, crops));
      mounted = true;
      assert.ok(run("mount", "-o", "remount,ro,bind", crops));
      const sub = await engine.addClip(clip);
      // More failed runs than a task has attempts: without the fix some
      // ocr task has failed for good by now.
      await until(() => engine.pool.counters.retry >= 8, "eight retries");
      assert.equal(engine.pool.counters.failed, 0);
      assert.ok(run("umount", crops));
      mounted = false;
      const [video] = await engine.waitFor([sub.videoId!]);
      assert.equal(video.status, "done");
      assert.equal(video.error, null);
      assert.deepEqual(
        [...sink.events.values()].map((e) => e.finalPlate).sort(),
        ["P0", "P1"],
      );
      assert.ok(
        !lines.some((l) => l.includes("task attempt failed")),
        "a put-off task is not an attempt failure",
      );
    } finally {
      if (mounted) run("umount", crops);
      await engine.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
