/**
 * `graph.task_timeout_s` through the real daemon: a handler that blocks its
 * worker's thread gets the worker terminated and replaced; its task is
 * retried (and succeeds when the hang was once) or ends `failed` after its
 * last attempt, and the clip still finishes with the other frames' events.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTestClip } from "../support/clips.ts";
import {
  query,
  setup,
  startDaemon,
  stopWithSigterm,
  until,
} from "../support/daemon.ts";
import { FAULTY_HANDLERS } from "../support/config.ts";

/** Bound of each wait: generous, as the machine may be shared and busy. */
const LIMIT_MS = 300_000;

interface FrameTask {
  id: number;
  path: string;
  frame_idx: number;
  status: string;
  attempts: number;
  last_error: string | null;
}

Deno.test("a task that hangs past graph.task_timeout_s gets its worker replaced and is retried, or failed after its last attempt", async () => {
  const s = await setup({
    handlers_module: FAULTY_HANDLERS,
    graph: {
      poll_ms: 10,
      retry_backoff_ms: 10,
      keep_finished: true,
      // Short enough for a quick test, long enough that a normal task of
      // the trivial stages never runs over on a busy machine.
      task_timeout_s: 2,
      lease_s: 4,
      max_attempts: 2,
    },
  });
  try {
    // 2 s at 5 fps: 10 frames. Frame 2 of the first hangs once; frame 3 of
    // the second hangs on every attempt.
    for (
      const [name, source] of [["hang-once", "testsrc"], [
        "hang-always",
        "testsrc2",
      ]]
    ) {
      await makeTestClip(s.root, `${name}.mp4`, { durationS: 2, source });
      await Deno.rename(
        join(s.root, `${name}.mp4`),
        join(s.inbox, `${name}.mp4`),
      );
    }
    const daemon = startDaemon(s);
    const finished = () =>
      query<{ n: number }>(
        s.dataDir,
        "SELECT COUNT(*) AS n FROM video_metadata WHERE status IN ('done', 'failed')",
      )[0]?.n === 2;
    assert.ok(
      await until(finished, daemon.child, LIMIT_MS),
      "both clips finished",
    );
    const status = await stopWithSigterm(daemon, 30_000);
    const log = await daemon.stderr;
    assert.equal(status.code, 0, log);

    const tasks = query<FrameTask>(
      s.dataDir,
      `SELECT t.id, v.path, t.frame_idx, t.status, t.attempts, t.last_error
         FROM tasks t JOIN video_metadata v ON v.video_id = t.video_id
        WHERE t.category = 'vehicle_detect'`,
    );
    const of = (name: string, frame: number) =>
      tasks.find((t) =>
        t.path.endsWith(`${name}.mp4`) && t.frame_idx === frame
      );
    // Hung once: retried on a fresh worker and done.
    const once = of("hang-once", 2);
    assert.equal(once?.status, "done", JSON.stringify(once));
    assert.equal(once?.attempts, 2);
    // Hung every time: failed after its two attempts, saying why.
    const always = of("hang-always", 3);
    assert.equal(always?.status, "failed", JSON.stringify(always));
    assert.equal(always?.attempts, 2);
    assert.match(always?.last_error ?? "", /worker lost on attempt 2/);
    // Every other frame task is done.
    assert.equal(tasks.length, 20);
    assert.equal(tasks.filter((t) => t.status === "done").length, 19);
    // Each hang cost its worker: once, then twice.
    const replaced = (id: number | undefined) =>
      log.split("\n").filter((l) =>
        l.includes("replacing stage worker") &&
        l.includes(`task ${id} ran over`)
      ).length;
    assert.equal(replaced(once?.id), 1, log);
    assert.equal(replaced(always?.id), 2, log);
    // Both clips end done: a failed frame task loses that frame only.
    const videos = query<{ path: string; status: string; error: string }>(
      s.dataDir,
      "SELECT path, status, error FROM video_metadata ORDER BY path",
    );
    assert.deepEqual(
      videos.map((v) => [v.path.slice(v.path.lastIndexOf("/") + 1), v.status]),
      [["hang-always.mp4", "done"], ["hang-once.mp4", "done"]],
    );
    assert.match(videos[0].error, /1 task\(s\) failed/);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
