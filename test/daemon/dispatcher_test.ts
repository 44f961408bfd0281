import assert from "node:assert/strict";
import { join } from "node:path";
import { Dispatcher } from "../../src/daemon/dispatcher.ts";
import { IDLE_POLL_GROWTH } from "../../src/daemon/protocol.ts";
import { openGraphDb } from "../../src/graph/db.ts";
import { dataLayout } from "../../src/shared/mod.ts";
import { ManualClock } from "../support/clock.ts";

Deno.test("Dispatcher: idle pauses double from poll_ms up to IDLE_POLL_GROWTH times it, and start short again once woken", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dispatcher_test_" });
  const db = openGraphDb(join(dir, "pipeline.db"));
  const clock = new ManualClock();
  const stats = { resultsHandled: 0, busyErrors: 0, ticks: 0 };
  let moves = 0; // rounds in which a clip "moved" (work was done)
  const d = new Dispatcher(db, {
    data: dataLayout(dir),
    sink: { add: () => true },
    maxAttempts: 3,
    pollMs: 100,
    stats,
    wake: () => {},
    deleteFrame: () => Promise.resolve(),
    advanceClips: () => moves-- > 0,
    onFatal: (err) => {
      throw err;
    },
    clock,
  });
  try {
    d.start();
    // Idle: each pause twice the last, capped.
    for (let n = 1; n <= 6; n++) {
      await clock.sleptAtLeast(n);
      clock.advance(clock.pending[0]);
    }
    await clock.sleptAtLeast(7);
    assert.deepEqual(clock.sleeps, [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(100 * IDLE_POLL_GROWTH, 1000);
    // Woken with work: rounds run at once while busy, then pause short.
    moves = 2;
    d.wake();
    await clock.sleptAtLeast(8);
    assert.deepEqual(clock.sleeps.slice(7), [100]);
    assert.equal(stats.ticks, 7 + 3, "two busy rounds and an idle one");
  } finally {
    await d.stop();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
