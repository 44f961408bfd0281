/**
 * `daemon.max_queued_tasks` through the real daemon: with several clips
 * dropped into the inbox at once, intake waits while the queue is over the
 * bound, so the queued tasks (read from pipeline.db throughout) never exceed
 * the bound plus one clip's fan-out; every clip still finishes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTestClip } from "../support/clips.ts";
import {
  doneCount,
  events,
  query,
  setup,
  startDaemon,
  stopWithSigterm,
  until,
} from "../support/daemon.ts";
import { FAULTY_HANDLERS } from "../support/config.ts";

const BOUND = 10;
const CLIPS = 4;
/** 3 s at 5 fps; the trivial stages keep one queued task per frame. */
const FRAMES_PER_CLIP = 15;
/** The most tasks one clip has queued at once: its frames (3 summaries come after them). */
const FAN_OUT = FRAMES_PER_CLIP;

function count(dataDir: string, sql: string): number {
  return query<{ n: number }>(dataDir, sql)[0]?.n ?? 0;
}

const queued = (dataDir: string) =>
  count(dataDir, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'");
const taken = (dataDir: string) =>
  count(dataDir, "SELECT COUNT(*) AS n FROM video_metadata");
const decoding = (dataDir: string) =>
  count(
    dataDir,
    "SELECT COUNT(*) AS n FROM video_metadata WHERE status IN ('queued', 'decoding')",
  );

Deno.test("run holds intake while more than daemon.max_queued_tasks are queued: the queue never exceeds the bound plus one clip's fan-out", async () => {
  const s = await setup({
    handlers_module: FAULTY_HANDLERS,
    daemon: { max_queued_tasks: BOUND },
    graph: {
      poll_ms: 10,
      retry_backoff_ms: 10,
      keep_finished: true,
      // Decoding is not what bounds the queue here, and the gated tasks
      // below must not count as hung however slow the machine is.
      max_frames_on_disk: 1000,
      task_timeout_s: 600,
      lease_s: 1200,
    },
  });
  let daemon: ReturnType<typeof startDaemon> | null = null;
  try {
    const sources = ["testsrc", "testsrc2", "smptebars", "rgbtestsrc"];
    for (const [i, source] of sources.entries()) {
      await makeTestClip(s.root, `gated-c${i}.mp4`, { durationS: 3, source });
    }
    daemon = startDaemon(s);
    assert.ok(await daemon.ready, "daemon started");
    // Dropped at once.
    for (let i = 0; i < CLIPS; i++) {
      const name = `gated-c${i}.mp4`;
      await Deno.rename(join(s.root, name), join(s.inbox, name));
    }
    let most = 0;
    const watch = () => {
      most = Math.max(most, queued(s.dataDir));
    };
    // Phase 1, nothing processed (the gate is shut): every clip taken so far
    // is decoded into queued tasks; the others must wait in the inbox.
    assert.ok(
      await until(
        () => {
          watch();
          return taken(s.dataDir) > 0 && decoding(s.dataDir) === 0 &&
            queued(s.dataDir) >= FAN_OUT;
        },
        daemon.child,
        300_000,
      ),
      "first clip decoded",
    );
    watch();
    const takenWhileFull = taken(s.dataDir);
    assert.ok(
      most <= BOUND + FAN_OUT,
      `${most} tasks queued with ${takenWhileFull} clips taken; bound ${BOUND} + fan-out ${FAN_OUT}`,
    );
    assert.ok(takenWhileFull < CLIPS, "intake never waited");
    // Phase 2: the stages run; intake resumes as the queue drains.
    await Deno.writeTextFile(join(s.dataDir, "gate-open"), "");
    assert.ok(
      await until(
        () => {
          watch();
          return doneCount(s.dataDir) === CLIPS;
        },
        daemon.child,
        300_000,
      ),
      `clips unfinished: ${doneCount(s.dataDir)} done`,
    );
    const status = await stopWithSigterm(daemon, 30_000);
    assert.equal(status.code, 0, await daemon.stderr);
    daemon = null;
    assert.ok(
      most <= BOUND + FAN_OUT,
      `${most} tasks queued at once; bound ${BOUND} + fan-out ${FAN_OUT}`,
    );
    assert.equal(events(s.dataDir).length, CLIPS * 3);
  } finally {
    if (daemon) {
      try {
        daemon.child.kill("SIGKILL");
      } catch { /* exited */ }
      console.error(await daemon.stderr);
    }
    await Deno.remove(s.root, { recursive: true });
  }
});
