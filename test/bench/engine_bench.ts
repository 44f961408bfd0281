/**
 * Engine throughput with trivial handlers: tasks per second through the
 * graph, and SQLite contention (SQLITE_BUSY) under that load.
 *
 * @module
 */
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";
import { fmt, table } from "./_util.ts";

/** Runs the engine benchmark and prints its table. */
export async function engineBench(): Promise<void> {
  const dir = await Deno.makeTempDir();
  const rows = [[
    "workers",
    "frames",
    "tasks",
    "wall s",
    "tasks/s",
    "SQLITE_BUSY",
    "lease lost",
  ]];
  try {
    const clip = await makeTestClip(dir, "bench.mp4", {
      durationS: 40,
      size: "160x120",
    });
    const layouts: Array<[number, number, number]> = [[1, 1, 1], [2, 1, 1], [
      4,
      4,
      4,
    ]];
    for (const [vd, pd, oc] of layouts) {
      const busyLines: string[] = [];
      const log = new Logger({
        level: "warn",
        sink: (l) => {
          if (/locked|busy/i.test(l)) busyLines.push(l);
        },
      });
      const config = testConfig(join(dir, `data${vd}${pd}${oc}`), {
        sampling_fps: 25,
        workers: {
          vehicle_detect: vd,
          plate_detect: pd,
          ocr: oc,
          plate_smooth: 1,
          summary: 1,
        },
        graph: { poll_ms: 5, max_frames_on_disk: 200, keep_finished: true },
      });
      const events: FinalEvent[] = [];
      const engine = await Engine.open(config, {
        log,
        sink: { add: (e) => (events.push(e), true) },
        handlersModule: TRIVIAL_HANDLERS,
      });
      const t0 = performance.now();
      const sub = await engine.addClip(clip);
      await engine.waitFor([sub.videoId!]);
      const wall = (performance.now() - t0) / 1000;
      const tasks = Number(
        (engine.db.prepare(
          "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'",
        ).get() as {
          n: number;
        }).n,
      );
      const busyInTasks = Number(
        (engine.db.prepare(
          "SELECT COUNT(*) AS n FROM tasks WHERE last_error LIKE '%locked%' OR last_error LIKE '%busy%'",
        ).get() as { n: number }).n,
      );
      const frames = engine.videoRow(sub.videoId!)?.frames_total ?? 0;
      const busy = engine.stats.busyErrors + busyInTasks + busyLines.length;
      rows.push([
        `${vd}/${pd}/${oc} (${vd + pd + oc} frame-stage workers)`,
        String(frames),
        String(tasks),
        fmt(wall, 2),
        fmt(tasks / wall, 0),
        String(busy),
        String(engine.pool.counters["lease-lost"]),
      ]);
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  table(
    "Engine with trivial handlers (decode + 5 stages, 160x120 frames at 25 fps)",
    rows,
  );
}
