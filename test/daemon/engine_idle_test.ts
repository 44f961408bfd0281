import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";

/** Polls `cond` every 5 ms, failing after `boundMs` (a bound, not a timing). */
async function until(
  cond: () => boolean,
  what: string,
  boundMs = 60_000,
): Promise<void> {
  const end = Date.now() + boundMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("An idle engine's dispatcher prepares no statement per round (memory stays bounded)", async () => {
  const dir = await Deno.makeTempDir();
  // Counts every statement prepared in this isolate (the engine's
  // connection; the workers run in their own isolates and are covered by
  // test/graph/poll_statements_test.ts).
  const original = DatabaseSync.prototype.prepare;
  let prepared = 0;
  DatabaseSync.prototype.prepare = function (this: DatabaseSync, sql: string) {
    prepared++;
    return original.call(this, sql);
  } as typeof original;
  const config = testConfig(join(dir, "data"), {
    graph: { poll_ms: 1, keep_finished: false },
    workers: {
      vehicle_detect: 1,
      plate_detect: 1,
      ocr: 1,
      plate_smooth: 1,
      summary: 1,
    },
  });
  const engine = await Engine.open(config, {
    log: new Logger({ level: "error", sink: () => {}, journald: false }),
    sink: { add: () => true },
    handlersModule: TRIVIAL_HANDLERS,
  });
  try {
    const from = engine.stats.ticks;
    await until(() => engine.stats.ticks >= from + 20, "20 idle rounds");
    const warm = prepared;
    const at = engine.stats.ticks;
    await until(() => engine.stats.ticks >= at + 500, "500 idle rounds");
    // Before the fix: three statements per round (fetchUnhandled,
    // failExpiredLeases, listVideos), each holding native memory until GC.
    assert.equal(prepared - warm, 0);
  } finally {
    await engine.close({ deadlineMs: 2000 });
    DatabaseSync.prototype.prepare = original;
    await Deno.remove(dir, { recursive: true });
  }
});
