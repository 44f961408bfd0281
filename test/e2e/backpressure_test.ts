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

const BOUND = 10;
const CLIPS = 4;
/** 3 s at 5 fps; the trivial stages keep one queued task per frame. */
const FRAMES_PER_CLIP = 15;
/** The most tasks one clip has queued at once: its frames (3 summaries come after them). */
const FAN_OUT = FRAMES_PER_CLIP;

function queued(dataDir: string): number {
  return query<{ n: number }>(
    dataDir,
    "SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'",
  )[0]?.n ?? 0;
}

function clipsTaken(dataDir: string): number {
  return query<{ n: number }>(
    dataDir,
    "SELECT COUNT(*) AS n FROM video_metadata",
  )[0]?.n ?? 0;
}

Deno.test("run holds intake while more than daemon.max_queued_tasks are queued: the queue never exceeds the bound plus one clip's fan-out", async () => {
  const s = await setup({
    daemon: { max_queued_tasks: BOUND },
    // Decoding is not what bounds the queue here.
    graph: {
      poll_ms: 10,
      retry_backoff_ms: 10,
      keep_finished: true,
      max_frames_on_disk: 1000,
    },
  });
  try {
    const sources = ["testsrc", "testsrc2", "smptebars", "rgbtestsrc"];
    for (const [i, source] of sources.entries()) {
      await makeTestClip(s.root, `c${i}.mp4`, { durationS: 3, source });
    }
    // Slow stages, so the queue builds up while clips wait in the inbox.
    const daemon = startDaemon(s, { TRIVIAL_DELAY_MS: "40" });
    assert.ok(await daemon.ready, "daemon started");
    // Dropped at once.
    for (let i = 0; i < CLIPS; i++) {
      await Deno.rename(join(s.root, `c${i}.mp4`), join(s.inbox, `c${i}.mp4`));
    }
    let most = 0;
    let heldBack = false;
    assert.ok(
      await until(() => {
        const n = queued(s.dataDir);
        most = Math.max(most, n);
        // Intake held: over the bound with clips still in the inbox untaken.
        if (n > BOUND && clipsTaken(s.dataDir) < CLIPS) heldBack = true;
        return doneCount(s.dataDir) === CLIPS;
      }, daemon.child),
      "every clip finished",
    );
    const status = await stopWithSigterm(daemon, 30_000);
    assert.equal(status.code, 0, await daemon.stderr);
    assert.ok(
      most <= BOUND + FAN_OUT,
      `${most} tasks queued at once; bound ${BOUND} + fan-out ${FAN_OUT}`,
    );
    assert.ok(most > BOUND, `the queue never went over the bound (${most})`);
    assert.ok(heldBack, "intake never waited");
    assert.equal(events(s.dataDir).length, CLIPS * 3);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
