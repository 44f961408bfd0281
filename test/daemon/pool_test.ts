/**
 * The worker pool's task-timeout watch on a manual clock: a task that hangs
 * gets its worker replaced when the clock passes `task_timeout_s`, with no
 * wait on the wall clock for the timeout (only the lease, 0.2 s here, is
 * wall time: the workers stamp leases in their own isolates).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { ManualClock } from "../support/clock.ts";
import { FAULTY_HANDLERS, testConfig } from "../support/config.ts";

/** Polls `cond` every 10 ms, failing after `limitMs` (a bound, not a timing). */
async function until(
  cond: () => boolean,
  what: string,
  limitMs = 60_000,
): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("WorkerPool replaces a worker whose task runs past task_timeout_s on the pool's clock, and the task is retried", async () => {
  const dir = await Deno.makeTempDir();
  // Frame 2 of a clip named hang-once blocks its worker on the first try.
  const clip = await makeTestClip(dir, "hang-once.mp4", { durationS: 1 });
  const config = testConfig(join(dir, "data"), {
    handlers_module: FAULTY_HANDLERS,
    // An hour: only the manual clock can make a task run over.
    graph: { keep_finished: true, task_timeout_s: 3600, lease_s: 0.2 },
  });
  const lines: string[] = [];
  const clock = new ManualClock();
  const engine = await Engine.open(config, {
    log: new Logger({
      level: "info",
      sink: (l) => lines.push(l),
      journald: false,
    }),
    sink: { add: () => true },
    clock,
  });
  try {
    const sub = await engine.addClip(clip);
    const frame2 = () =>
      engine.db.prepare(
        "SELECT id, attempts, status FROM tasks WHERE category = 'vehicle_detect' AND frame_idx = 2",
      ).get() as { id: number; attempts: number; status: string } | undefined;
    // Frame 2 hangs, alone: the other stages have drained (the one
    // vehicle_detect worker is blocked), so only its worker can run over.
    await until(
      () => {
        const f = frame2();
        const running = engine.pool.runningTasks();
        return f?.attempts === 1 && running.length === 1 &&
          running[0] === f.id;
      },
      "frame 2 hanging alone",
    );
    const hung = frame2()!.id;
    // Not over yet: a second short of the timeout changes nothing.
    clock.advance(3_599_000);
    await clock.sleptAtLeast(clock.sleeps.length + 1); // the watch went round
    assert.equal(engine.pool.counters.restarts, 0);
    clock.advance(2000);
    await until(() => engine.pool.counters.restarts >= 1, "the replacement");
    assert.equal(engine.pool.counters.restarts, 1);
    assert.ok(
      lines.some((l) =>
        l.includes("replacing stage worker") &&
        l.includes(`task ${hung} ran over 3600000 ms`)
      ),
      lines.join("\n"),
    );
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video.status, "done");
    assert.deepEqual({ ...frame2() }, {
      id: hung,
      attempts: 2,
      status: "done",
    });
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});
