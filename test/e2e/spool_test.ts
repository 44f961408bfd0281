/**
 * The USB spool path through the real daemon: clips on removable media are
 * copied to DATA_DIR/spool, and the copy is removed once the clip ends,
 * done or failed for good (the failed clip's record stays).
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

function spoolFiles(dataDir: string): string[] {
  try {
    return [...Deno.readDirSync(join(dataDir, "spool"))].map((e) => e.name);
  } catch {
    return [];
  }
}

Deno.test("run removes the spooled copy of a clip that failed for good, and keeps its record", async () => {
  const s = await setup();
  try {
    // The inbox counts as removable media, so clips are spooled.
    const cfg = JSON.parse(await Deno.readTextFile(s.config));
    cfg.inbox = { ...cfg.inbox, removable_prefixes: [s.inbox] };
    await Deno.writeTextFile(s.config, JSON.stringify(cfg));
    const good = await makeTestClip(s.root, "good.mp4", { durationS: 1 });
    await Deno.copyFile(good, join(s.inbox, "good.mp4"));
    await Deno.writeFile(
      join(s.inbox, "broken.mp4"),
      crypto.getRandomValues(new Uint8Array(50_000)),
    );
    const daemon = startDaemon(s);
    const terminal = () =>
      query<{ status: string }>(
        s.dataDir,
        "SELECT status FROM video_metadata WHERE status IN ('done', 'failed')",
      ).length === 2;
    assert.ok(await until(terminal, daemon.child), "both clips ended");
    // The copies go right after the clip ends: poll for it, bounded.
    assert.ok(
      await until(
        () => spoolFiles(s.dataDir).length === 0,
        daemon.child,
        30_000,
      ),
      `spool still holds ${spoolFiles(s.dataDir).join(", ")}`,
    );
    const status = await stopWithSigterm(daemon, 30_000);
    assert.equal(status.code, 0, await daemon.stderr);
    const rows = query<{ status: string; path: string; error: string | null }>(
      s.dataDir,
      "SELECT status, path, error FROM video_metadata ORDER BY status",
    );
    assert.deepEqual(rows.map((r) => r.status), ["done", "failed"]);
    assert.match(rows[1].error ?? "", /Cannot use clip/);
    assert.match(await daemon.stderr, /spooled copy of a failed clip removed/);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
